package mortgage

import (
	"strings"
	"testing"

	"mortgaged/internal/pgtest"
	"mortgaged/mortgage/store"
)

// TestRestrictionsQueryPlan: the registration transaction's restrictions
// query, planned as its prepared statement is (a generic plan, the day a
// parameter), still inlines migration 0015's functions and reaches every
// restriction table through its unit index, and the top rank through
// migration 0019's index over every mortgage, cancelled ones included.
func TestRestrictionsQueryPlan(t *testing.T) {
	d := pgtest.Open(t)
	tx := d.MustBegin()
	defer tx.Rollback()
	for _, set := range []string{`SET LOCAL plan_cache_mode = force_generic_plan`, `SET LOCAL enable_seqscan = off`} {
		if _, err := tx.Exec(set); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(`PREPARE restrictions AS ` + store.RestrictionsSQL); err != nil {
		t.Fatal(err)
	}
	var plan []string
	if err := tx.Select(&plan, `EXPLAIN EXECUTE restrictions('{230202001001GB00001F00010001}', '2026-11-26')`); err != nil {
		t.Fatal(err)
	}
	if text := strings.Join(plan, "\n"); !strings.Contains(text, "$2") {
		t.Fatalf("not a generic plan:\n%s", text)
	}
	text := strings.Join(plan, "\n")
	if strings.Contains(text, "Function Scan") {
		t.Errorf("restrictions are not inlined:\n%s", text)
	}
	for _, index := range []string{"seizures_unit", "objections_unit", "preregistrations_unit", "mortgage_units_unit_rank"} {
		if !strings.Contains(text, index) {
			t.Errorf("plan does not use %s:\n%s", index, text)
		}
	}
	t.Logf("\n%s", text)
}
