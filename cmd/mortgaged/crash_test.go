package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/pgtest"
	"mortgaged/internal/testwait"
	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/partners/centrejson"
)

// cleanBundle puts one sole-owner unit in the register and returns a JSON v1
// body that registers a mortgage on it for bank.
func cleanBundle(t *testing.T, d *sqlx.DB, bank partners.Partner, ref string) []byte {
	t.Helper()
	return cleanBundleOn(t, d, bank, ref, 1)
}

// cleanBundleOn is cleanBundle on unit number n (each n its own unit).
func cleanBundleOn(t *testing.T, d *sqlx.DB, bank partners.Partner, ref string, n int) []byte {
	t.Helper()
	stem := "23020219800101123"
	owner := mortgage.Party{Name: "张伟", IDType: mortgage.IDResident, IDNumber: stem + string(mortgage.ResidentIDCheckChar(stem))}
	unit, title := fmt.Sprintf("230202001001GB%05dF00010001", n), fmt.Sprintf("黑(2020)齐齐哈尔市不动产权第%07d号", n)
	if _, err := d.Exec(`INSERT INTO units (unit_number, location, use, area_m2, title_certificate_number, ownership_form)
		VALUES ($1, '龙沙区卜奎大街1号', 'residential', 80, $2, 'sole')`, unit, title); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`INSERT INTO owners (unit_number, seq, name, id_type, id_number) VALUES ($1, 1, $2, '1', $3)`, unit, owner.Name, owner.IDNumber); err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.4\n%%EOF\n")
	sum := sha256.Sum256(pdf)
	doc := func(kind string) mortgage.Material {
		return mortgage.Material{Kind: kind, FileName: kind + ".pdf", MediaType: "application/pdf", SHA256: hex.EncodeToString(sum[:]), Content: pdf}
	}
	no := false
	today := mortgage.DateOf(time.Now(), time.FixedZone("CST", 8*3600))
	body, err := centrejson.EncodeApplication(&mortgage.Application{
		Reference: ref, Type: mortgage.FirstGeneral,
		Units:      []mortgage.UnitRef{{UnitNumber: unit, TitleCertificateNumber: title}},
		Mortgagors: []mortgage.Party{owner},
		Mortgagee:  mortgage.Party{Name: bank.Name, IDType: mortgage.IDCreditCode, IDNumber: bank.CreditCode},
		Mortgage: &mortgage.Terms{CollateralKind: "2", PrincipalFen: 600_000_00, DebtStart: today, DebtEnd: mortgage.Date{Time: today.AddDate(20, 0, 0)},
			Scope: "主债权及利息", TransferRestricted: &no},
		Materials: []mortgage.Material{doc("application_form"), doc("loan_contract"), doc("mortgage_contract")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func addBank(t *testing.T, d *sqlx.DB) (partners.Partner, string) {
	t.Helper()
	stem := "91230200MA1BANK01"
	c, _ := mortgage.CreditCodeCheckChar(stem)
	bank := partners.Partner{ID: "lj-bank", Kind: partners.KindBank, Name: "龙江示范银行股份有限公司齐齐哈尔分行", CreditCode: stem + string(c)}
	reg := testRegistry(t, d) // the server processes derive the key's secret from the same master key
	if err := reg.Add(t.Context(), bank); err != nil {
		t.Fatal(err)
	}
	key, err := reg.IssueKey(t.Context(), bank.ID)
	if err != nil {
		t.Fatal(err)
	}
	return bank, key
}

// TestKilledInsideRegistration proves PROMISES S1: a server killed inside the
// registration transaction leaves nothing behind, and the resubmission
// registers exactly once.
func TestKilledInsideRegistration(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	d, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bank, key := addBank(t, d)
	body := cleanBundle(t, d, bank, "LJB-CRASH-1")
	env := []string{"DATABASE_URL=" + url}

	p := start(t, append(env, "MORTGAGED_TEST_PAUSE_BEFORE_COMMIT=1"), "serve", "-addr", "127.0.0.1:0")
	answered := make(chan int, 1)
	go func() {
		status, _, _ := post(p.addr, key, body)
		answered <- status // 0: the connection died with the server
	}()
	p.waitFor("test hook: paused before commit")
	// Everything is written but not committed: kill the process here.
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	if status := <-answered; status != 0 {
		t.Fatalf("the killed server answered %d; nothing may be acknowledged before commit", status)
	}
	// PostgreSQL rolls the transaction back when the connection drops.
	testwait.For(t, func() error {
		var active int
		if err := d.Get(&active, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'`); err != nil {
			t.Fatal(err)
		}
		if active > 0 {
			return fmt.Errorf("%d transactions of the killed process still open", active)
		}
		return nil
	})
	for _, table := range []string{"bundles", "mortgages", "mortgage_units", "materials", "fees", "audit_log", "events", "certificates"} {
		var n int
		if err := d.Get(&n, `SELECT count(*) FROM `+table); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows in %s after the crash, want none", n, table)
		}
	}

	p = start(t, env, "serve", "-addr", "127.0.0.1:0")
	status, answer, err := post(p.addr, key, body)
	if err != nil || status != http.StatusCreated || !strings.Contains(string(answer), `"status":"registered"`) {
		t.Fatalf("resubmission after the crash: %d %s %v", status, answer, err)
	}
	again, replay, _ := post(p.addr, key, body)
	if again != status || string(replay) != string(answer) {
		t.Errorf("second resubmission: %d %s, want the first answer", again, replay)
	}
	for table, want := range map[string]int{"bundles": 1, "mortgages": 1, "mortgage_units": 1, "audit_log": 1, "events": 1, "certificates": 1} {
		var n int
		if err := d.Get(&n, `SELECT count(*) FROM `+table); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%d rows in %s, want %d", n, table, want)
		}
	}
	p.terminate()
}
