// Package seal protects secrets at rest — certificate signing keys, partners'
// webhook secrets — with AES-256-GCM under one master key per installation.
// Every node sharing a database must be given the same master key.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the master key's length in bytes.
const KeySize = 32

// Sealer encrypts and authenticates small secrets, and derives secrets
// that need not be stored at all.
type Sealer struct {
	aead   cipher.AEAD
	derive []byte // HMAC key for Derive, itself derived from the master key
}

// New makes a sealer from a 32-byte master key.
func New(master []byte) (*Sealer, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("master key must be %d bytes, got %d", KeySize, len(master))
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, master)
	m.Write([]byte("mortgaged derive v1"))
	return &Sealer{aead: aead, derive: m.Sum(nil)}, nil
}

// Seal encrypts plaintext; purpose is bound in as additional data so a value
// sealed for one use cannot be passed off as another.
func (s *Sealer) Seal(plaintext []byte, purpose string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return s.aead.Seal(nonce, nonce, plaintext, []byte(purpose))
}

// Derive computes a 32-byte secret for (purpose, id) that only holders of
// the master key can compute: partners' request-signing secrets are derived
// this way, so the database holds nothing that signs a request.
func (s *Sealer) Derive(purpose, id string) []byte {
	m := hmac.New(sha256.New, s.derive)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return m.Sum(nil)
}

// ErrOpen means a sealed value was altered, sealed for another purpose, or
// sealed under another master key.
var ErrOpen = errors.New("sealed value cannot be opened with this master key")

// Open decrypts a value sealed for purpose.
func (s *Sealer) Open(sealed []byte, purpose string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrOpen
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(purpose))
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

// LoadMasterKey reads the master key from env (base64) when set, else from
// file, creating the file with a fresh random key (mode 0600) on first use.
func LoadMasterKey(env, file string) ([]byte, error) {
	if env != "" {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(env))
		if err != nil || len(k) != KeySize {
			return nil, fmt.Errorf("MORTGAGED_MASTER_KEY must be %d bytes in base64", KeySize)
		}
		return k, nil
	}
	b, err := os.ReadFile(file)
	if err == nil {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != KeySize {
			return nil, fmt.Errorf("%s does not hold a %d-byte base64 master key", file, KeySize)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o711); err != nil {
		return nil, err
	}
	// O_EXCL: two processes starting together must not each write a key.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadMasterKey("", file)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		return nil, err
	}
	return k, f.Sync()
}
