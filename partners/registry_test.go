package partners_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"mortgaged/internal/db"
	"mortgaged/internal/pgtest"
	"mortgaged/partners"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, func(ctx context.Context, url string) error {
		d, err := db.Open(ctx, url)
		if err != nil {
			return err
		}
		defer d.Close()
		_, err = db.Migrate(ctx, d, nil)
		return err
	})
}

func TestKeys(t *testing.T) {
	d := pgtest.Open(t)
	reg := &partners.Registry{DB: d}
	bank := partners.Partner{ID: "lj-bank", Kind: partners.KindBank, Name: "龙江示范银行", CreditCode: "91230200MA1BANK01Q"}
	if err := reg.Add(t.Context(), bank); err != nil {
		t.Fatal(err)
	}
	key, err := reg.IssueKey(t.Context(), bank.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reg.Authenticate(t.Context(), key)
	if err != nil || got.ID != bank.ID || got.CreditCode != bank.CreditCode {
		t.Fatalf("Authenticate(new key) = %+v, %v", got, err)
	}

	t.Run("HashedAtRest", func(t *testing.T) {
		secret := key[strings.LastIndex(key, "_")+1:]
		var dump string
		if err := d.Get(&dump, `SELECT string_agg(k::text, ' ') FROM api_keys k`); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(dump, secret) || strings.Contains(dump, key) {
			t.Errorf("the key's secret is stored in clear: %s", dump)
		}
	})
	t.Run("ErrUnauthenticated", func(t *testing.T) {
		for _, bad := range []string{"", "mk_", "nonsense", key + "x", key[:len(key)-1], strings.Replace(key, "mk_", "xk_", 1)} {
			if _, err := reg.Authenticate(t.Context(), bad); !errors.Is(err, partners.ErrUnauthenticated) {
				t.Errorf("Authenticate(%q) = %v, want ErrUnauthenticated", bad, err)
			}
		}
	})
	t.Run("SecondKeyBothWork", func(t *testing.T) {
		second, err := reg.IssueKey(t.Context(), bank.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{key, second} {
			if _, err := reg.Authenticate(t.Context(), k); err != nil {
				t.Errorf("key %d…: %v", len(k), err)
			}
		}
	})
	t.Run("ErrRevokedOrDisabled", func(t *testing.T) {
		if _, err := d.Exec(`UPDATE api_keys SET revoked_at = now() WHERE key_id = $1`, key[3:19]); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Authenticate(t.Context(), key); !errors.Is(err, partners.ErrUnauthenticated) {
			t.Errorf("revoked key: %v", err)
		}
		third, _ := reg.IssueKey(t.Context(), bank.ID)
		if _, err := d.Exec(`UPDATE partners SET enabled = false`); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Authenticate(t.Context(), third); !errors.Is(err, partners.ErrUnauthenticated) {
			t.Errorf("disabled partner: %v", err)
		}
	})
}
