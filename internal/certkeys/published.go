package certkeys

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// KeySetPath is where the server publishes its public keys.
const KeySetPath = "/.well-known/mortgaged-keys.json"

// KeySet is the published key list, as served at KeySetPath.
type KeySet struct {
	Keys []PublishedKey `json:"keys"`
}

// PublishedKey is one key in the published list. RetiredAt says when the
// key stopped being the active one; it does not end the validity of what
// the key signed.
type PublishedKey struct {
	KeyID     string `json:"keyId"`
	Algorithm string `json:"algorithm"`
	PublicKey string `json:"publicKey"` // base64 (standard, padded) of the 32-byte Ed25519 key
	CreatedAt string `json:"createdAt"`
	RetiredAt string `json:"retiredAt,omitempty"`
}

// MarshalKeySet renders keys as the published JSON, times in loc.
func MarshalKeySet(keys []PublicKey, loc *time.Location) ([]byte, error) {
	set := KeySet{Keys: make([]PublishedKey, len(keys))}
	for i, k := range keys {
		set.Keys[i] = PublishedKey{KeyID: k.ID, Algorithm: k.Algorithm, PublicKey: base64.StdEncoding.EncodeToString(k.Key),
			CreatedAt: k.CreatedAt.In(loc).Format(time.RFC3339)}
		if k.RetiredAt != nil {
			set.Keys[i].RetiredAt = k.RetiredAt.In(loc).Format(time.RFC3339)
		}
	}
	return json.MarshalIndent(set, "", "  ")
}

// ParseKeySet reads the published JSON.
func ParseKeySet(b []byte) ([]PublicKey, error) {
	var set KeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("key list is not JSON: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("key list holds no keys")
	}
	keys := make([]PublicKey, 0, len(set.Keys))
	for _, p := range set.Keys {
		if p.Algorithm != Algorithm {
			continue // a later algorithm this program does not know
		}
		pub, err := base64.StdEncoding.DecodeString(p.PublicKey)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("key %s: publicKey must be %d bytes in base64", p.KeyID, ed25519.PublicKeySize)
		}
		k := PublicKey{ID: p.KeyID, Algorithm: p.Algorithm, Key: pub}
		k.CreatedAt, _ = time.Parse(time.RFC3339, p.CreatedAt)
		if p.RetiredAt != "" {
			if t, err := time.Parse(time.RFC3339, p.RetiredAt); err == nil {
				k.RetiredAt = &t
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// Verification failures.
var (
	ErrUnknownKey   = errors.New("the signing key is not among the published keys")
	ErrBadSignature = errors.New("the signature does not match the document")
)

// Verify checks a detached signature over the exact bytes of msg with the
// published key keyID. Nothing is parsed or re-serialised before checking.
func Verify(keys []PublicKey, keyID string, msg, sig []byte) error {
	for _, k := range keys {
		if k.ID != keyID {
			continue
		}
		if k.Algorithm != Algorithm || len(k.Key) != ed25519.PublicKeySize {
			return fmt.Errorf("key %s: unsupported algorithm %q", keyID, k.Algorithm)
		}
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(k.Key, msg, sig) {
			return ErrBadSignature
		}
		return nil
	}
	return fmt.Errorf("%w: %q", ErrUnknownKey, keyID)
}

// EnvelopeFormat names the envelope's version.
const EnvelopeFormat = "mortgaged-certificate-envelope/v1"

// Envelope is a signed document in one self-describing file: what
// `mortgaged verify` reads. GET /v1/certificates/{number}?envelope=1 writes
// it; the "certificate" object of a pushed or pulled event has the same
// fields (keyId, document, signature) and can be saved as one.
type Envelope struct {
	Format           string `json:"format,omitempty"`
	Number           string `json:"number,omitempty"`
	Status           string `json:"status,omitempty"` // at the time the envelope was made; ask /verify for now
	VerificationCode string `json:"verificationCode,omitempty"`
	KeyID            string `json:"keyId"`
	Algorithm        string `json:"algorithm,omitempty"`
	MediaType        string `json:"mediaType,omitempty"` // of the document: application/json or application/xml
	Document         string `json:"document"`            // base64 of the exact signed bytes
	Signature        string `json:"signature"`           // base64 of the detached Ed25519 signature
}

// Open decodes the envelope's document and signature.
func (e Envelope) Open() (document, signature []byte, err error) {
	if e.KeyID == "" || e.Document == "" || e.Signature == "" {
		return nil, nil, errors.New("envelope must carry keyId, document and signature")
	}
	if e.Algorithm != "" && e.Algorithm != Algorithm {
		return nil, nil, fmt.Errorf("envelope algorithm %q is not %s", e.Algorithm, Algorithm)
	}
	if document, err = base64.StdEncoding.DecodeString(e.Document); err != nil {
		return nil, nil, fmt.Errorf("envelope document is not base64: %w", err)
	}
	if signature, err = base64.StdEncoding.DecodeString(e.Signature); err != nil {
		return nil, nil, fmt.Errorf("envelope signature is not base64: %w", err)
	}
	return document, signature, nil
}

// Verify checks the envelope against the published keys.
func (e Envelope) Verify(keys []PublicKey) error {
	doc, sig, err := e.Open()
	if err != nil {
		return err
	}
	return Verify(keys, e.KeyID, doc, sig)
}
