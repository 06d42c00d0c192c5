package certificate_test

import (
	"strings"
	"testing"

	"mortgaged/mortgage/certificate"
)

// rotating signs with key "k1" for its first n signatures, then "k2"; with
// n < 0 it alternates at every signature.
type rotating struct{ n, calls int }

func (r *rotating) Sign(msg []byte) (string, []byte) {
	r.calls++
	id := "k2"
	if (r.n < 0 && r.calls%2 == 1) || r.calls <= r.n {
		id = "k1"
	}
	return id, []byte(id + ":" + string(msg[:8]))
}

func document() *certificate.Document {
	return &certificate.Document{Format: certificate.Format, Title: "不动产登记证明", Number: "黑(2026)齐齐哈尔市不动产证明第0000001号",
		Matter: "抵押权", RegistrationType: "mortgage_first_general", VerificationCode: "H7K3M9XPQ2"}
}

// TestSignOneKey: a rotation picked up between the two signatures signs
// both renderings again, so they are always under one key; a key that
// never holds still is an error, not a mixed pair.
func TestSignOneKey(t *testing.T) {
	t.Parallel()
	s, err := certificate.Sign(document(), &rotating{n: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID != "k2" || !strings.HasPrefix(string(s.JSONSignature), "k2:") || !strings.HasPrefix(string(s.XMLSignature), "k2:") {
		t.Errorf("signed %s, JSON %q, XML %q: want both under k2", s.KeyID, s.JSONSignature, s.XMLSignature)
	}
	if _, err := certificate.Sign(document(), &rotating{n: -1}); err == nil {
		t.Error("a key changing at every signature: signed, want an error")
	}
}

// TestParse reads the JSON rendering back and refuses another format.
func TestParse(t *testing.T) {
	t.Parallel()
	d := document()
	b, err := d.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := certificate.Parse(b)
	if err != nil || got.Number != d.Number || got.RegistrationType != d.RegistrationType {
		t.Fatalf("parsed %+v, %v", got, err)
	}
	if _, err := certificate.Parse([]byte(`{"format":"mortgaged-certificate/v0"}`)); err == nil {
		t.Error("another format: parsed, want an error")
	}
}
