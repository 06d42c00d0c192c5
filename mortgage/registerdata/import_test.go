package registerdata_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"mortgaged/internal/pgtest"
	"mortgaged/mortgage"
	"mortgaged/mortgage/registerdata"
)

// tables are the register tables an import writes.
var tables = []string{"units", "owners", "mortgages", "mortgage_units", "seizures", "objections", "preregistrations"}

func counts(t *testing.T, d *sqlx.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tb := range tables {
		var n int
		if err := d.Get(&n, "SELECT count(*) FROM "+tb); err != nil {
			t.Fatalf("count %s: %v", tb, err)
		}
		out[tb] = n
	}
	return out
}

// fileCounts counts what the file holds by decoding it independently of Import.
func fileCounts(t *testing.T, file []byte) (sum registerdata.Summary, mortgageUnits int) {
	t.Helper()
	certs := map[string]bool{}
	for i, l := range lines(file) {
		var u registerdata.Unit
		if err := json.Unmarshal([]byte(l), &u); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		sum.Units++
		sum.Owners += len(u.Owners)
		sum.Seizures += len(u.Seizures)
		sum.Objections += len(u.Objections)
		sum.Preregistrations += len(u.Preregistrations)
		for _, m := range u.Mortgages {
			mortgageUnits++
			if !certs[m.CertificateNumber] {
				certs[m.CertificateNumber] = true
				sum.Mortgages++
			}
		}
	}
	return sum, mortgageUnits
}

func TestImportDemo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.Open(t)
	demo, file := demoFile(t, 2000, 7)

	var progress []int
	sum, err := registerdata.Import(ctx, d, bytes.NewReader(file), func(n int) { progress = append(progress, n) })
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	want, wantMU := fileCounts(t, file)
	if sum != want {
		t.Errorf("Summary = %+v, file holds %+v", sum, want)
	}
	if sum.Mortgages != len(demo.Mortgages) {
		t.Errorf("Summary.Mortgages = %d, demo describes %d", sum.Mortgages, len(demo.Mortgages))
	}
	got := counts(t, d)
	wantDB := map[string]int{"units": sum.Units, "owners": sum.Owners, "mortgages": sum.Mortgages, "mortgage_units": wantMU,
		"seizures": sum.Seizures, "objections": sum.Objections, "preregistrations": sum.Preregistrations}
	if !reflect.DeepEqual(got, wantDB) {
		t.Errorf("database rows = %v, want %v", got, wantDB)
	}
	if !slices.Equal(progress, []int{1000, 2000}) {
		t.Errorf("progress calls = %v, want [1000 2000]", progress)
	}
	asOf := registerdata.DemoDate.Time

	t.Run("Seized", func(t *testing.T) {
		var n int
		mustGet(t, d, &n, `SELECT count(*) FROM seizures WHERE unit_number = $1 AND lifted_at IS NULL
			AND seized_from <= $2 AND (seized_until IS NULL OR seized_until >= $2)`, demo.Seized[0].UnitNumber, asOf)
		if n != 1 {
			t.Errorf("current seizures on %s = %d, want 1", demo.Seized[0].UnitNumber, n)
		}
	})
	t.Run("Joint", func(t *testing.T) {
		u := demo.Joint[0]
		var form string
		var owners int
		mustGet(t, d, &form, `SELECT ownership_form FROM units WHERE unit_number = $1`, u.UnitNumber)
		mustGet(t, d, &owners, `SELECT count(*) FROM owners WHERE unit_number = $1 AND share_numerator IS NULL`, u.UnitNumber)
		if form != "joint" || owners != 2 {
			t.Errorf("unit %s: form %q with %d owners without shares, want joint with 2", u.UnitNumber, form, owners)
		}
	})
	t.Run("Shares", func(t *testing.T) {
		for _, u := range demo.Shares[:4] {
			var rows []struct {
				Num int64 `db:"share_numerator"`
				Den int64 `db:"share_denominator"`
			}
			if err := d.Select(&rows, `SELECT share_numerator, share_denominator FROM owners WHERE unit_number = $1`, u.UnitNumber); err != nil {
				t.Fatal(err)
			}
			sum := new(big.Rat)
			for _, r := range rows {
				sum.Add(sum, big.NewRat(r.Num, r.Den))
			}
			if len(rows) < 2 || sum.Cmp(big.NewRat(1, 1)) != 0 {
				t.Errorf("unit %s: %d owners with shares summing to %s, want ≥2 summing to 1", u.UnitNumber, len(rows), sum.RatString())
			}
		}
	})
	t.Run("MortgageHeldByDemoBank", func(t *testing.T) {
		bank := demo.Partners[0]
		var m registerdata.DemoMortgage
		for _, dm := range demo.Mortgages {
			if dm.PartnerID == bank.ID {
				m = dm
				break
			}
		}
		var row struct {
			Mortgagee  string `db:"mortgagee_id_number"`
			State      int    `db:"state"`
			Mortgagors []byte `db:"mortgagors"`
			Debtors    []byte `db:"debtors"`
			Units      int    `db:"units"`
			Current    int    `db:"current_units"`
		}
		mustGet(t, d, &row, `SELECT m.mortgagee_id_number, m.state, m.mortgagors, m.debtors,
			(SELECT count(*) FROM mortgage_units WHERE mortgage_id = m.id) AS units,
			(SELECT count(*) FROM mortgage_units WHERE mortgage_id = m.id AND current AND rank = $2) AS current_units
			FROM mortgages m WHERE certificate_number = $1`, m.CertificateNumber, m.Rank)
		if row.Mortgagee != bank.CreditCode || row.State != 1 || row.Units != len(m.Units) || row.Current != len(m.Units) {
			t.Errorf("mortgage %s = %+v, want held by %s, state 1, current at rank %d on %d unit(s)",
				m.CertificateNumber, row, bank.CreditCode, m.Rank, len(m.Units))
		}
		var mortgagors, debtors []mortgage.Party
		if err := json.Unmarshal(row.Mortgagors, &mortgagors); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(row.Debtors, &debtors); err != nil {
			t.Fatal(err)
		}
		owners := ownersOf(demo, m.Units[0])
		if !reflect.DeepEqual(mortgagors, owners) || !reflect.DeepEqual(debtors, owners) {
			t.Errorf("mortgagors %v, debtors %v, want the owners %v", mortgagors, debtors, owners)
		}
	})
	t.Run("OneMortgageSeveralUnits", func(t *testing.T) {
		var n int
		mustGet(t, d, &n, `SELECT count(*) FROM (SELECT mortgage_id FROM mortgage_units GROUP BY mortgage_id HAVING count(*) = 2) s`)
		if n == 0 {
			t.Error("no mortgage covers two units")
		}
	})
	t.Run("RankTwo", func(t *testing.T) {
		var n int
		mustGet(t, d, &n, `SELECT count(DISTINCT unit_number) FROM mortgage_units WHERE current AND rank = 2`)
		if n == 0 {
			t.Error("no unit has a current rank-2 mortgage")
		}
	})
	t.Run("Objection", func(t *testing.T) {
		var n int
		mustGet(t, d, &n, `SELECT count(*) FROM objections WHERE unit_number = $1 AND cancelled_at IS NULL
			AND (expires_on IS NULL OR expires_on >= $2)`, demo.Objection[0].UnitNumber, asOf)
		if n != 1 {
			t.Errorf("open objections on %s = %d, want 1", demo.Objection[0].UnitNumber, n)
		}
	})
	t.Run("PreregistrationOfAnotherParty", func(t *testing.T) {
		u := demo.Preregistered[0]
		var holder string
		mustGet(t, d, &holder, `SELECT holder_id_number FROM preregistrations WHERE unit_number = $1 AND kind = 'purchase' AND ended_at IS NULL`, u.UnitNumber)
		if holder == u.Owners[0].IDNumber {
			t.Errorf("pre-registration on %s is held by the owner", u.UnitNumber)
		}
	})
	t.Run("NotMortgageable", func(t *testing.T) {
		var ok bool
		mustGet(t, d, &ok, `SELECT mortgageable FROM units WHERE unit_number = $1`, demo.NotMortgageable[0].UnitNumber)
		if ok {
			t.Errorf("unit %s is mortgageable", demo.NotMortgageable[0].UnitNumber)
		}
	})
	t.Run("CleanHasNothingCurrent", func(t *testing.T) {
		numbers := make([]string, len(demo.Clean))
		for i, u := range demo.Clean {
			numbers[i] = u.UnitNumber
		}
		var n int
		mustGet(t, d, &n, `SELECT
			(SELECT count(*) FROM seizures WHERE unit_number = ANY($1) AND (seized_until IS NULL OR seized_until >= $2)) +
			(SELECT count(*) FROM objections WHERE unit_number = ANY($1) AND (expires_on IS NULL OR expires_on >= $2)) +
			(SELECT count(*) FROM preregistrations WHERE unit_number = ANY($1)) +
			(SELECT count(*) FROM mortgage_units WHERE unit_number = ANY($1)) +
			(SELECT count(*) FROM units WHERE unit_number = ANY($1) AND NOT mortgageable)`, pq.Array(numbers), asOf)
		if n != 0 {
			t.Errorf("clean units carry %d current restrictions", n)
		}
	})
}

func ownersOf(d registerdata.Demo, unit string) []mortgage.Party {
	for _, u := range d.Mortgaged {
		if u.UnitNumber == unit {
			return u.Parties()
		}
	}
	return nil
}

func mustGet(t *testing.T, d *sqlx.DB, dest any, query string, args ...any) {
	t.Helper()
	if err := d.Get(dest, query, args...); err != nil {
		t.Fatalf("%s: %v", strings.Join(strings.Fields(query), " "), err)
	}
}

// mutate decodes a line, changes it and encodes it again.
func mutate(t *testing.T, line string, change func(u *registerdata.Unit)) string {
	t.Helper()
	var u registerdata.Unit
	if err := json.Unmarshal([]byte(line), &u); err != nil {
		t.Fatal(err)
	}
	change(&u)
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestImportBadLinesWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.Open(t)
	_, file := demoFile(t, 200, 3)
	ls := lines(file)
	ls = slices.Insert(ls, 1, "", "   ") // blank lines count as lines and are skipped
	// Physical lines 5, 50 and 120 go bad, each in its own way.
	ls[4] = mutate(t, ls[4], func(u *registerdata.Unit) { u.UnitNumber = u.UnitNumber[:20] })
	ls[49] = mutate(t, ls[49], func(u *registerdata.Unit) {
		u.OwnershipForm = "shares"
		u.Owners = append(u.Owners, registerdata.Owner{Name: "钱七", IDType: "3", IDNumber: "E12345678"})
		u.Owners[0].Share, u.Owners[1].Share = "1/2", "1/3"
	})
	ls[119] = `{"unitNumber": "230202001001GB00001F00010001", `
	file = []byte(strings.Join(ls, "\n") + "\n")

	_, err := registerdata.Import(ctx, d, bytes.NewReader(file), nil)
	var ie *registerdata.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("Import = %v, want *ImportError", err)
	}
	var got []int
	for _, le := range ie.Errors {
		if len(got) == 0 || got[len(got)-1] != le.Line {
			got = append(got, le.Line)
		}
	}
	if !slices.Equal(got, []int{5, 50, 120}) || ie.Total != len(ie.Errors) {
		t.Errorf("bad lines = %v (total %d, listed %d), want [5 50 120]: %v", got, ie.Total, len(ie.Errors), ie.Errors)
	}
	for _, le := range ie.Errors {
		if le.Line == 50 && le.Field != "owners" {
			t.Errorf("line 50 fault at %q, want owners (shares sum to 5/6)", le.Field)
		}
	}
	for tb, n := range counts(t, d) {
		if n != 0 {
			t.Errorf("%s has %d rows after a refused import", tb, n)
		}
	}
}

func TestImportTwiceRefusedAndUnchanged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := pgtest.Open(t)
	_, file := demoFile(t, 300, 5)
	first, err := registerdata.Import(ctx, d, bytes.NewReader(file), nil)
	if err != nil {
		t.Fatalf("first Import: %v", err)
	}
	before := counts(t, d)

	sum, err := registerdata.Import(ctx, d, bytes.NewReader(file), nil)
	var ie *registerdata.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("second Import = %+v, %v; want *ImportError", sum, err)
	}
	if ie.Errors[0].Line != 1 || ie.Errors[0].Field != "unitNumber" {
		t.Errorf("first fault = %+v, want line 1 unitNumber", ie.Errors[0])
	}
	// Every unit is already there, and every certificate number.
	if want := first.Units + first.Mortgages; ie.Total != want {
		t.Errorf("faults = %d, want %d (units + mortgages)", ie.Total, want)
	}
	if len(ie.Errors) != registerdata.MaxLineErrors {
		t.Errorf("listed %d faults, want the cap %d", len(ie.Errors), registerdata.MaxLineErrors)
	}
	if after := counts(t, d); !reflect.DeepEqual(before, after) {
		t.Errorf("rows after refused import %v, before %v", after, before)
	}
}

func TestImportCrossLineRules(t *testing.T) {
	t.Parallel()
	_, file := demoFile(t, 100, 11)
	ls := lines(file)
	var mortgaged string
	var m registerdata.Mortgage
	for _, l := range ls {
		var u registerdata.Unit
		if err := json.Unmarshal([]byte(l), &u); err != nil {
			t.Fatal(err)
		}
		if len(u.Mortgages) > 0 {
			mortgaged, m = l, u.Mortgages[0]
			break
		}
	}
	amountField := "mortgages[0].principalAmount"
	if m.Kind == "maximum" {
		amountField = "mortgages[0].maximumAmount"
	}
	elsewhere := func(u *registerdata.Unit) { u.UnitNumber = u.UnitNumber[:24] + "9999" }
	tests := []struct {
		name      string
		lines     []string
		want      []registerdata.LineError // messages not compared
		wantUnits int                      // units under m's certificate after import
	}{
		{"DuplicateUnit", []string{ls[0], ls[1], ls[0]}, []registerdata.LineError{{Line: 3, Field: "unitNumber"}}, 0},
		{"SharedMortgage", []string{mortgaged, mutate(t, mortgaged, elsewhere)}, nil, 2},
		{"SharedMortgageDifferentAmount", []string{mortgaged, mutate(t, mortgaged, func(u *registerdata.Unit) {
			elsewhere(u)
			if u.Mortgages[0].Kind == "maximum" {
				u.Mortgages[0].MaximumAmount = "1.00"
			} else {
				u.Mortgages[0].PrincipalAmount = "1.00"
			}
		})}, []registerdata.LineError{{Line: 2, Field: amountField}}, 0},
		{"SameCertificateTwiceOnOneUnit", []string{mutate(t, mortgaged, func(u *registerdata.Unit) {
			second := u.Mortgages[0]
			second.Rank = 9
			u.Mortgages = append(u.Mortgages, second)
		})}, []registerdata.LineError{{Line: 1, Field: fmt.Sprintf("mortgages[%d].certificateNumber", strings.Count(mortgaged, `"rank"`))}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := pgtest.Open(t)
			_, err := registerdata.Import(context.Background(), d, strings.NewReader(strings.Join(tc.lines, "\n")), nil)
			var got []registerdata.LineError
			var ie *registerdata.ImportError
			if errors.As(err, &ie) {
				for _, le := range ie.Errors {
					got = append(got, registerdata.LineError{Line: le.Line, Field: le.Field})
				}
			} else if err != nil {
				t.Fatalf("Import: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("faults = %+v, want %+v", got, tc.want)
			}
			var units int
			mustGet(t, d, &units, `SELECT count(*) FROM mortgage_units mu JOIN mortgages m ON m.id = mu.mortgage_id
				WHERE m.certificate_number = $1`, m.CertificateNumber)
			if units != tc.wantUnits {
				t.Errorf("units under %s = %d, want %d", m.CertificateNumber, units, tc.wantUnits)
			}
		})
	}
}

// BenchmarkImport100k imports a 100,000-unit demo register into a fresh
// database per iteration (go test -run '^$' -bench Import100k -benchtime 1x).
func BenchmarkImport100k(b *testing.B) {
	const units = 100_000
	_, file := demoFile(b, units, 1)
	b.SetBytes(int64(len(file)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d := pgtest.Open(b)
		b.StartTimer()
		sum, err := registerdata.Import(context.Background(), d, bytes.NewReader(file), nil)
		if err != nil || sum.Units != units {
			b.Fatalf("Import = %+v, %v", sum, err)
		}
	}
	b.ReportMetric(float64(units*b.N)/b.Elapsed().Seconds(), "units/s")
}

// TestDocExampleLine keeps the example in docs/register-import.md valid and
// checks what it loads.
func TestDocExampleLine(t *testing.T) {
	t.Parallel()
	line := docExampleLine(t)
	if u, errs := registerdata.ParseLine([]byte(line)); u == nil || len(errs) > 0 {
		t.Fatalf("example line: %v", errs)
	}
	d := pgtest.Open(t)
	sum, err := registerdata.Import(context.Background(), d, strings.NewReader(line), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := registerdata.Summary{Units: 1, Owners: 2, Mortgages: 1, Seizures: 1, Objections: 1, Preregistrations: 1}
	if sum != want {
		t.Errorf("Summary = %+v, want %+v", sum, want)
	}
	var mortgagors string
	mustGet(t, d, &mortgagors, `SELECT mortgagors::text FROM mortgages`)
	if want := `[{"name": "张三", "idType": "1", "idNumber": "230202198503120016"}, {"name": "赵敏", "idType": "1", "idNumber": "230202198706200024"}]`; mortgagors != want {
		t.Errorf("mortgagors = %s, want %s", mortgagors, want)
	}
	// The imported serial is never handed out again.
	var next int
	mustGet(t, d, &next, `SELECT next_certificate_serial('齐齐哈尔市不动产登记中心', 2021)`)
	if next != 43 {
		t.Errorf("next 2021 certificate serial = %d, want 43", next)
	}
}

// docExampleLine is the full example line of docs/register-import.md.
func docExampleLine(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/register-import.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "<!-- example-line")
	if !ok {
		t.Fatal("no example-line marker in the doc")
	}
	_, after, _ = strings.Cut(after, "```json\n")
	line, _, _ := strings.Cut(after, "\n")
	return line
}
