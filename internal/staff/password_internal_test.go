package staff

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestUnknownUserCostsTheSameHashing: a sign-in for an unknown or disabled
// user is checked against dummyHash (authenticate), whose argon2id cost and
// key length are those of every stored password, so the two failures take
// the same work and cannot be told apart by timing. Compared by the hashes'
// parameters, not by a clock.
func TestUnknownUserCostsTheSameHashing(t *testing.T) {
	stored, err := HashPassword("ein Passwort, 一个密码")
	if err != nil {
		t.Fatal(err)
	}
	cost := func(phc string) (params string, keyLen int) {
		t.Helper()
		parts := strings.Split(phc, "$") // "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
		if len(parts) != 6 {
			t.Fatalf("not a PHC string: %q", phc)
		}
		key, err := base64.RawStdEncoding.DecodeString(parts[5])
		if err != nil {
			t.Fatal(err)
		}
		return parts[1] + "$" + parts[2] + "$" + parts[3], len(key)
	}
	wantParams, wantLen := cost(stored)
	gotParams, gotLen := cost(dummyHash())
	if gotParams != wantParams || gotLen != wantLen {
		t.Errorf("dummy hash costs %s with a %d-byte key, a stored password %s with %d", gotParams, gotLen, wantParams, wantLen)
	}
	if ok, err := CheckPassword(dummyHash(), "anything"); ok || err != nil {
		t.Errorf("the dummy hash checked as (%v, %v), want a plain mismatch", ok, err)
	}
}
