package mortgage_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
)

// TestCurrentRestrictions: migration 0015's functions are the one
// definition of what stands on a unit on a given day. A lifted or run-out
// seizure, a cancelled or expired objection and an ended pre-registration
// do not count; the ones still in force do, with the pre-registration's
// holder.
func TestCurrentRestrictions(t *testing.T) {
	e := setup(t)
	u := e.soleUnit(zhang).number
	today := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	e.exec(`INSERT INTO seizures (unit_number, authority, document_number, seized_from, seized_until, lifted_at) VALUES
		($1, '龙沙区人民法院', '(2026)黑0202执1号', '2026-01-05', NULL, NULL),
		($1, '龙沙区人民法院', '(2026)黑0202执2号', '2026-01-05', '2026-11-26', NULL),
		($1, '龙沙区人民法院', '(2025)黑0202执3号', '2025-01-05', '2026-11-25', NULL),
		($1, '龙沙区人民法院', '(2025)黑0202执4号', '2025-01-05', NULL, '2026-03-01')`, u)
	e.exec(`INSERT INTO objections (unit_number, applicant, matter, registered_on, expires_on, cancelled_at) VALUES
		($1, '李四', '权属争议', '2026-11-20', '2026-12-05', NULL),
		($1, '王五', '权属争议', '2026-10-01', '2026-10-16', NULL),
		($1, '赵六', '权属争议', '2026-11-01', NULL, '2026-11-02')`, u)
	e.exec(`INSERT INTO preregistrations (unit_number, kind, holder_name, holder_id_type, holder_id_number, registered_on, ended_at) VALUES
		($1, 'purchase', '孙七', '1', '230202198001010011', '2025-05-01', NULL),
		($1, 'purchase', '周八', '1', '230202198001010022', '2024-05-01', '2025-05-01')`, u)
	var got []string
	if err := e.db.Select(&got, `SELECT kind || ':' || holder_id_number FROM current_restrictions($2)
		WHERE unit_number = ANY($1) ORDER BY 1`, pq.Array([]string{u}), today); err != nil {
		t.Fatal(err)
	}
	want := []string{"objection:", "preregistration:230202198001010011", "seizure:", "seizure:"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("current restrictions %q, want %q", got, want)
	}
}

// TestCurrentRestrictionsInline: the functions are inlined into the
// registration transaction's query, so the unit condition reaches each
// table's index as it did when the conditions were written out; a
// "Function Scan" would read every restriction in the register.
func TestCurrentRestrictionsInline(t *testing.T) {
	e := setup(t)
	tx := e.db.MustBegin()
	defer tx.Rollback()
	if _, err := tx.Exec(`SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	var plan []string
	if err := tx.Select(&plan, `EXPLAIN SELECT unit_number, kind, holder_id_number FROM current_restrictions('2026-11-26')
		WHERE unit_number = ANY('{230202001001GB00001F00010001}')`); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if strings.Contains(text, "Function Scan") {
		t.Errorf("current_restrictions is not inlined:\n%s", text)
	}
	for _, index := range []string{"seizures_unit", "objections_unit", "preregistrations_unit"} {
		if !strings.Contains(text, index) {
			t.Errorf("plan does not use %s:\n%s", index, text)
		}
	}
}
