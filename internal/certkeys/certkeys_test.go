package certkeys_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/certkeys"
	"mortgaged/internal/pgtest"
	"mortgaged/internal/seal"
)

func TestMain(m *testing.M) { pgtest.Main(m, pgtest.Migrate) }

func sealer(t *testing.T, b byte) *seal.Sealer {
	t.Helper()
	s, err := seal.New(bytes.Repeat([]byte{b}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func count(t *testing.T, d *sqlx.DB, q string) int {
	t.Helper()
	var n int
	if err := d.Get(&n, q); err != nil {
		t.Fatal(err)
	}
	return n
}

var keyIDPattern = regexp.MustCompile(`^k20\d\d-[0-9a-f]{8}$`)

// Nodes starting together on a fresh database agree on one key.
func TestOpenConcurrentlyMakesOneKey(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	const nodes = 8
	ids := make([]string, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range nodes {
		wg.Go(func() {
			<-start
			k, err := certkeys.Open(context.Background(), d, sealer(t, 1))
			errs[i] = err
			if err == nil {
				ids[i] = k.KeyID()
			}
		})
	}
	close(start)
	wg.Wait()
	for i := range nodes {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("node %d signs with %s, node 0 with %s", i, ids[i], ids[0])
		}
	}
	if !keyIDPattern.MatchString(ids[0]) {
		t.Errorf("key id %q, want k<year>-<8 hex>", ids[0])
	}
	if n := count(t, d, `SELECT count(*) FROM signing_keys`); n != 1 {
		t.Errorf("%d keys, want 1", n)
	}
}

func TestPrivateKeyIsSealed(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	k, err := certkeys.Open(t.Context(), d, sealer(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("登记")
	id, sig := k.Sign(msg)
	var row struct {
		Public []byte `db:"public_key"`
		Sealed []byte `db:"private_sealed"`
	}
	if err := d.Get(&row, `SELECT public_key, private_sealed FROM signing_keys WHERE key_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(row.Public, msg, sig) {
		t.Fatal("signature does not verify with the stored public key")
	}
	// The seed is not stored in clear: what is stored opens only with the
	// master key, for the signing-key purpose.
	if len(row.Sealed) != 12+ed25519.SeedSize+16 {
		t.Errorf("sealed private key is %d bytes, want nonce + seed + tag", len(row.Sealed))
	}
	if _, err := sealer(t, 1).Open(row.Sealed, "webhook-secret"); err == nil {
		t.Error("the sealed signing key opens for another purpose")
	}
	// Another master key cannot open it, and says so.
	if _, err := certkeys.Open(t.Context(), d, sealer(t, 2)); err == nil || !errors.Is(err, seal.ErrOpen) {
		t.Errorf("open with another master key: %v, want seal.ErrOpen", err)
	}
	// A sealed key moved to another row is refused.
	if _, err := d.Exec(`UPDATE signing_keys SET public_key = $1`, make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	if _, err := certkeys.Open(t.Context(), d, sealer(t, 1)); err == nil {
		t.Error("a private key that does not match its public key was accepted")
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	s := sealer(t, 1)
	k, err := certkeys.Open(t.Context(), d, s)
	if err != nil {
		t.Fatal(err)
	}
	first := k.KeyID()
	msg := []byte("certificate")
	_, oldSig := k.Sign(msg)

	// Two rotations at once both succeed, one after the other.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { _, errs[i] = certkeys.Rotate(context.Background(), d, s) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := k.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if k.KeyID() == first {
		t.Fatal("still signing with the retired key after Refresh")
	}
	keys, err := k.PublicKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	active := 0
	for _, key := range keys {
		if key.Active() {
			active++
			if key.ID != k.KeyID() {
				t.Errorf("active key %s, keyring signs with %s", key.ID, k.KeyID())
			}
		}
	}
	if len(keys) != 3 || active != 1 {
		t.Fatalf("%d keys, %d active; want 3 and 1", len(keys), active)
	}
	if keys[0].ID != first || keys[0].RetiredAt == nil {
		t.Errorf("oldest key %+v, want %s retired", keys[0], first)
	}
	// What the retired key signed still verifies against the published list.
	if err := certkeys.Verify(keys, first, msg, oldSig); err != nil {
		t.Errorf("old signature: %v", err)
	}
	id, sig := k.Sign(msg)
	if err := certkeys.Verify(keys, id, msg, sig); err != nil {
		t.Errorf("new signature: %v", err)
	}
	if err := certkeys.Verify(keys, first, msg, sig); !errors.Is(err, certkeys.ErrBadSignature) {
		t.Errorf("new signature checked with the old key: %v, want ErrBadSignature", err)
	}
	if err := certkeys.Verify(keys, "k1999-00000000", msg, sig); !errors.Is(err, certkeys.ErrUnknownKey) {
		t.Errorf("unknown key: %v, want ErrUnknownKey", err)
	}
}

// The published list round-trips, and an envelope verifies until any one
// byte of its document changes.
func TestKeySetAndEnvelope(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	k, err := certkeys.Open(t.Context(), d, sealer(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := k.PublicKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, err := certkeys.MarshalKeySet(keys, time.FixedZone("CST", 8*3600))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := certkeys.ParseKeySet(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed) != 1 || parsed[0].ID != k.KeyID() || !parsed[0].Key.Equal(keys[0].Key) || parsed[0].RetiredAt != nil {
		t.Fatalf("parsed %+v from %s", parsed, b)
	}
	doc := []byte(`{"number":"黑(2026)齐齐哈尔市不动产证明第0000001号"}`)
	id, sig := k.Sign(doc)
	env := certkeys.Envelope{KeyID: id, Document: base64.StdEncoding.EncodeToString(doc), Signature: base64.StdEncoding.EncodeToString(sig)}
	if err := env.Verify(parsed); err != nil {
		t.Fatalf("envelope: %v", err)
	}
	for i := range doc {
		bad := bytes.Clone(doc)
		bad[i] ^= 0x01
		env.Document = base64.StdEncoding.EncodeToString(bad)
		if err := env.Verify(parsed); !errors.Is(err, certkeys.ErrBadSignature) {
			t.Fatalf("byte %d flipped: %v, want ErrBadSignature", i, err)
		}
	}
	for _, broken := range []certkeys.Envelope{
		{KeyID: id, Document: "!!", Signature: env.Signature},
		{KeyID: id, Document: env.Document},
		{KeyID: id, Algorithm: "RSA", Document: env.Document, Signature: env.Signature},
	} {
		if err := broken.Verify(parsed); err == nil {
			t.Errorf("%+v verified", broken)
		}
	}
}
