package partners_test

import (
	"bytes"
	"errors"
	"testing"

	"mortgaged/internal/pgtest"
	"mortgaged/internal/seal"
	"mortgaged/partners"
)

func TestValidateSchedule(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"@every 1m", "@every 1s", "@every 90s", "0 18 * * *", "*/5 8-17 * * 1-5", "@daily"} {
		if err := partners.ValidateSchedule(ok); err != nil {
			t.Errorf("ValidateSchedule(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "@every 500ms", "@every soon", "0 18 * *", "0 0 18 * * *", "TZ=UTC 0 18 * * *", "every minute",
		"0 0 30 2 *", // parses, but never runs: gocron refuses to schedule it
	} {
		if err := partners.ValidateSchedule(bad); err == nil {
			t.Errorf("ValidateSchedule(%q) accepts it", bad)
		}
	}
}

func TestPushSettings(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	sealer, err := seal.New(bytes.Repeat([]byte{3}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	reg := &partners.Registry{DB: d, Sealer: sealer}
	ctx := t.Context()
	if err := reg.Add(ctx, partners.Partner{ID: "hf-fund", Kind: partners.KindFundCentre, Name: "公积金中心", CreditCode: "12230200MB1FUND01X"}); err != nil {
		t.Fatal(err)
	}
	p, err := reg.PushSettings(ctx, "hf-fund")
	if err != nil || p.Active() || p.Schedule != "@every 1m" || p.Mode != partners.PushEach {
		t.Fatalf("before set-up: %+v, %v", p, err)
	}

	key, err := reg.SetPush(ctx, "hf-fund", "https://gjj.example/callback", "0 18 * * *", partners.PushBatch)
	if err != nil || len(key) != 32 {
		t.Fatalf("SetPush: %d-byte secret, %v", len(key), err)
	}
	p, err = reg.PushSettings(ctx, "hf-fund")
	if err != nil || !p.Active() || !bytes.Equal(p.Secret, key) || p.Schedule != "0 18 * * *" || p.Mode != partners.PushBatch {
		t.Fatalf("after set-up: %+v, %v", p, err)
	}
	t.Run("SealedAtRest", func(t *testing.T) {
		var stored []byte
		if err := d.Get(&stored, `SELECT webhook_secret_sealed FROM partners WHERE id = 'hf-fund'`); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, key) {
			t.Error("the webhook secret is stored in clear")
		}
		other, _ := seal.New(bytes.Repeat([]byte{4}, seal.KeySize))
		if _, err := (&partners.Registry{DB: d, Sealer: other}).PushSettings(ctx, "hf-fund"); !errors.Is(err, seal.ErrOpen) {
			t.Errorf("opened under another master key: %v", err)
		}
	})
	t.Run("SecretShownOnce", func(t *testing.T) {
		again, err := reg.SetPush(ctx, "hf-fund", "https://gjj.example/v2", "", "")
		if err != nil || again != nil {
			t.Fatalf("second SetPush returned a secret (%v)", err)
		}
		p, _ := reg.PushSettings(ctx, "hf-fund")
		if p.CallbackURL != "https://gjj.example/v2" || p.Schedule != "0 18 * * *" || p.Mode != partners.PushBatch || !bytes.Equal(p.Secret, key) {
			t.Errorf("empty schedule and mode must keep the old ones: %+v", p)
		}
	})
	t.Run("Rotate", func(t *testing.T) {
		fresh, err := reg.RotateWebhookSecret(ctx, "hf-fund")
		if err != nil || bytes.Equal(fresh, key) {
			t.Fatalf("rotate: %v", err)
		}
		if p, _ := reg.PushSettings(ctx, "hf-fund"); !bytes.Equal(p.Secret, fresh) {
			t.Error("the rotated secret is not in force")
		}
	})
	t.Run("Stop", func(t *testing.T) {
		if err := reg.StopPush(ctx, "hf-fund"); err != nil {
			t.Fatal(err)
		}
		if p, _ := reg.PushSettings(ctx, "hf-fund"); p.Active() {
			t.Error("still active after StopPush")
		}
		if _, err := reg.SetPush(ctx, "hf-fund", "https://gjj.example/v2", "", ""); err != nil {
			t.Fatal(err)
		}
		if p, _ := reg.PushSettings(ctx, "hf-fund"); !p.Active() {
			t.Error("SetPush does not turn the push on again")
		}
	})
	t.Run("Errors", func(t *testing.T) {
		for name, err := range map[string]error{
			"unknown partner": func() error { _, err := reg.SetPush(ctx, "nobody", "https://x.example/", "", ""); return err }(),
			"rotate unknown":  func() error { _, err := reg.RotateWebhookSecret(ctx, "nobody"); return err }(),
			"stop unknown":    reg.StopPush(ctx, "nobody"),
		} {
			if !errors.Is(err, partners.ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", name, err)
			}
		}
		for _, u := range []string{"ftp://x.example/", "/relative", "https://", "https://x.example/#frag"} {
			if _, err := reg.SetPush(ctx, "hf-fund", u, "", ""); err == nil {
				t.Errorf("callback %q accepted", u)
			}
		}
		if _, err := reg.SetPush(ctx, "hf-fund", "https://x.example/", "", "sometimes"); err == nil {
			t.Error("mode sometimes accepted")
		}
		if _, err := (&partners.Registry{DB: d}).SetPush(ctx, "hf-fund", "https://x.example/", "", ""); !errors.Is(err, partners.ErrNoSealer) {
			t.Errorf("SetPush without a master key: %v", err)
		}
	})
}
