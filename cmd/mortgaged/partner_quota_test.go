package main

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/pgtest"
)

// TestPartnerEncumbranceQuota: the administrator sets a partner's daily
// encumbrance queries, returns it to the centre's default with -1, and
// other limits leave it as it is.
func TestPartnerEncumbranceQuota(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	d, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bank, _ := addBank(t, d)
	env := []string{"DATABASE_URL=" + url}
	data := t.TempDir()
	quota := func() sql.NullInt64 {
		t.Helper()
		var q sql.NullInt64
		if err := d.Get(&q, `SELECT encumbrance_quota FROM partners WHERE id = $1`, bank.ID); err != nil {
			t.Fatal(err)
		}
		return q
	}

	if out, errOut, code := runBinary(t, env, "partner", "limits", bank.ID, "-encumbrance-quota", "50", "-data", data); code != 0 {
		t.Fatalf("partner limits -encumbrance-quota 50: %d %s %s", code, out, errOut)
	}
	if q := quota(); !q.Valid || q.Int64 != 50 {
		t.Errorf("quota %v, want 50", q)
	}
	if _, errOut, code := runBinary(t, env, "partner", "limits", bank.ID, "-rate", "100", "-data", data); code != 0 {
		t.Fatalf("partner limits -rate: %s", errOut)
	}
	if q := quota(); q.Int64 != 50 {
		t.Errorf("another limit changed the quota to %v", q)
	}
	if _, errOut, code := runBinary(t, env, "partner", "limits", bank.ID, "-encumbrance-quota", "-5", "-data", data); code == 0 || !strings.Contains(errOut, "encumbrance-quota") {
		t.Errorf("a negative quota was accepted: %d %s", code, errOut)
	}
	if _, errOut, code := runBinary(t, env, "partner", "limits", bank.ID, "-encumbrance-quota", "-1", "-data", data); code != 0 {
		t.Fatalf("partner limits -encumbrance-quota -1: %s", errOut)
	}
	if q := quota(); q.Valid {
		t.Errorf("quota %v, want the centre's default (NULL)", q)
	}
	if _, errOut, code := runBinary(t, env, "partner", "limits", "no-such-bank", "-encumbrance-quota", "5", "-data", data); code == 0 {
		t.Errorf("an unknown partner was accepted: %s", errOut)
	}
}
