package partners_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"mortgaged/internal/pgtest"
	"mortgaged/internal/seal"
	"mortgaged/partners"
	"mortgaged/partners/requestsig"
)

func TestMain(m *testing.M) { pgtest.Main(m, pgtest.Migrate) }

func TestKeys(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	sealer, err := seal.New(bytes.Repeat([]byte{3}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	reg := &partners.Registry{DB: d, Sealer: sealer}
	bank := partners.Partner{ID: "lj-bank", Kind: partners.KindBank, Name: "龙江示范银行", CreditCode: "91230200MA1BANK01Q"}
	if err := reg.Add(t.Context(), bank); err != nil {
		t.Fatal(err)
	}
	key, err := reg.IssueKey(t.Context(), bank.ID)
	if err != nil {
		t.Fatal(err)
	}
	id, secret, err := requestsig.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reg.KeyOwner(t.Context(), id)
	if err != nil || got.Partner.ID != bank.ID || got.Partner.Format != partners.FormatCentreJSON || !bytes.Equal(got.Secret, secret) {
		t.Fatalf("KeyOwner(new key) = %+v, %v", got, err)
	}

	t.Run("NothingThatSignsIsStored", func(t *testing.T) {
		var dump string
		if err := d.Get(&dump, `SELECT string_agg(k::text, ' ') FROM api_keys k`); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(dump, string(secret)) {
			t.Errorf("the key's secret is stored in clear: %s", dump)
		}
		other, _ := seal.New(bytes.Repeat([]byte{4}, seal.KeySize))
		o, err := (&partners.Registry{DB: d, Sealer: other}).KeyOwner(t.Context(), id)
		if err != nil || bytes.Equal(o.Secret, secret) {
			t.Errorf("another master key derives the same secret")
		}
	})
	t.Run("ErrUnknownKey", func(t *testing.T) {
		for _, bad := range []string{"", "short", "0000000000000000", strings.ToUpper(id)} {
			if _, err := reg.KeyOwner(t.Context(), bad); !errors.Is(err, partners.ErrUnauthenticated) {
				t.Errorf("KeyOwner(%q) = %v, want ErrUnauthenticated", bad, err)
			}
		}
	})
	t.Run("NonceOnce", func(t *testing.T) {
		for i, want := range []bool{true, false} {
			if fresh, err := reg.UseNonce(t.Context(), id, "q7Zk1mP0sXb3Lw9tR2yVnA"); err != nil || fresh != want {
				t.Errorf("use %d: fresh=%v, %v; want %v", i, fresh, err, want)
			}
		}
		if fresh, _ := reg.UseNonce(t.Context(), "1111111111111111", "q7Zk1mP0sXb3Lw9tR2yVnA"); !fresh {
			t.Error("the same nonce under another key was refused")
		}
	})
	t.Run("RotationOverlap", func(t *testing.T) {
		fresh, err := reg.RotateKey(t.Context(), bank.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		newID, _, _ := requestsig.ParseKey(fresh)
		for _, k := range []string{id, newID} {
			if _, err := reg.KeyOwner(t.Context(), k); err != nil {
				t.Errorf("key %s during the overlap: %v", k, err)
			}
		}
		if _, err := d.Exec(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE key_id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.KeyOwner(t.Context(), id); !errors.Is(err, partners.ErrUnauthenticated) {
			t.Errorf("old key after the overlap: %v", err)
		}
	})
	t.Run("ErrDisabled", func(t *testing.T) {
		if err := reg.Disable(t.Context(), bank.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.KeyOwner(t.Context(), id); !errors.Is(err, partners.ErrUnauthenticated) {
			t.Errorf("disabled partner's key: %v", err)
		}
	})
}

func TestFundCentreDefaultsToBatchFormat(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	reg := &partners.Registry{DB: d}
	if err := reg.Add(t.Context(), partners.Partner{ID: "qqhr-fund", Kind: partners.KindFundCentre, Name: "齐齐哈尔市住房公积金管理中心", CreditCode: "12230200414035627"}); err != nil {
		t.Fatal(err)
	}
	p, err := reg.Get(t.Context(), "qqhr-fund")
	if err != nil || p.Format != partners.FormatFundBatch || p.RatePerMinute != 600 {
		t.Errorf("fund centre %+v, %v", p, err)
	}
}

// TestFormatChecked: a partner is registered only with a format the node
// speaks; an unknown one would fail every request it sends.
func TestFormatChecked(t *testing.T) {
	d := pgtest.Open(t)
	reg := &partners.Registry{DB: d}
	ctx := t.Context()
	bank := partners.Partner{ID: "lj-bank", Kind: partners.KindBank, Name: "龙江示范银行", CreditCode: "91230200MA1BANK01Q"}
	t.Run("ErrUnknownOnAdd", func(t *testing.T) {
		p := bank
		p.Format = "centre-jsn-v1"
		if err := reg.Add(ctx, p); !errors.Is(err, partners.ErrUnknownFormat) || !strings.Contains(err.Error(), partners.FormatCentreJSON) {
			t.Errorf("Add with format %q: %v, want ErrUnknownFormat listing the formats", p.Format, err)
		}
	})
	t.Run("ShippedDialect", func(t *testing.T) {
		p := bank
		p.Format = "pinyin-flat"
		if err := reg.Add(ctx, p); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrUnknownOnChange", func(t *testing.T) {
		if err := reg.SetLimits(ctx, bank.ID, "no-such-dialect", 0, 0, nil); !errors.Is(err, partners.ErrUnknownFormat) {
			t.Errorf("SetLimits to an unknown format: %v", err)
		}
		if p, err := reg.Get(ctx, bank.ID); err != nil || p.Format != "pinyin-flat" {
			t.Errorf("format after a refused change: %q, %v", p.Format, err)
		}
	})
	t.Run("NodesOwnFormats", func(t *testing.T) {
		reg := &partners.Registry{DB: d, Formats: names{partners.FormatCentreJSON, "city-bank-v2"}}
		if err := reg.SetLimits(ctx, bank.ID, "city-bank-v2", 0, 0, nil); err != nil {
			t.Errorf("a dialect the node loaded: %v", err)
		}
		if err := reg.SetLimits(ctx, bank.ID, "pinyin-flat", 0, 0, nil); !errors.Is(err, partners.ErrUnknownFormat) {
			t.Errorf("a shipped dialect the node did not load: %v", err)
		}
	})
}

type names []string

func (n names) Names() []string { return n }
