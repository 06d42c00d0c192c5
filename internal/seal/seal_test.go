package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	s, err := New(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.Seal([]byte("secret"), "webhook")
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatal("sealed value contains the plaintext")
	}
	if got, err := s.Open(sealed, "webhook"); err != nil || string(got) != "secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(sealed, "signing-key"); !errors.Is(err, ErrOpen) {
		t.Errorf("opened under another purpose: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := s.Open(sealed, "webhook"); !errors.Is(err, ErrOpen) {
		t.Errorf("opened a tampered value: %v", err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(s.Seal([]byte("x"), "p"), "p"); !errors.Is(err, ErrOpen) {
		t.Errorf("opened under another master key: %v", err)
	}
}

func TestLoadMasterKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys", "master.key")
	first, err := LoadMasterKey("", file)
	if err != nil || len(first) != KeySize {
		t.Fatalf("first load: %v", err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", fi.Mode(), err)
	}
	again, err := LoadMasterKey("", file)
	if err != nil || !bytes.Equal(first, again) {
		t.Fatalf("second load differs: %v", err)
	}
	if _, err := LoadMasterKey("bm90IGEga2V5", file); err == nil {
		t.Error("accepted a short key from the environment")
	}
}

func TestDerive(t *testing.T) {
	a, _ := New(bytes.Repeat([]byte{7}, KeySize))
	b, _ := New(bytes.Repeat([]byte{8}, KeySize))
	x := a.Derive("partner-key", "0123456789abcdef")
	if len(x) != 32 || !bytes.Equal(x, a.Derive("partner-key", "0123456789abcdef")) {
		t.Fatal("Derive is not a stable 32-byte value")
	}
	for _, other := range [][]byte{a.Derive("partner-key", "0123456789abcdee"), a.Derive("webhook", "0123456789abcdef"), b.Derive("partner-key", "0123456789abcdef")} {
		if bytes.Equal(x, other) {
			t.Error("different purpose, id or master key derived the same secret")
		}
	}
}
