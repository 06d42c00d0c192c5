package staff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// argonParams are argon2id's cost settings. They are written into every
// hash, so raising them later leaves old hashes verifiable.
type argonParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	KeyLen  uint32
}

// passwordParams follow RFC 9106's second recommended option (64 MiB, three
// passes). A sign-in costs about 0.1 s of CPU on the two-core node, which a
// person does not notice and a guesser does.
var passwordParams = argonParams{Memory: 64 * 1024, Time: 3, Threads: 4, KeyLen: 32}

const saltLen = 16

// Cost is argon2id's work per password. Store.Add hashes with the
// store's Cost, passwordParams' when zero; a sign-in verifies with the cost
// written in the stored hash, whatever the store's.
type Cost struct {
	MemoryKiB uint32
	Passes    uint32
	Lanes     uint8
}

func (c Cost) params() argonParams {
	if c == (Cost{}) {
		return passwordParams
	}
	return argonParams{Memory: c.MemoryKiB, Time: c.Passes, Threads: c.Lanes, KeyLen: passwordParams.KeyLen}
}

// MinPasswordLength is the shortest password a staff account may have.
const MinPasswordLength = 12

// ErrWeakPassword is returned for a password shorter than MinPasswordLength.
var ErrWeakPassword = fmt.Errorf("password must be at least %d characters", MinPasswordLength)

// HashPassword hashes a password with argon2id and a fresh random salt, in
// the PHC string format: $argon2id$v=19$m=65536,t=3,p=4$salt$hash.
func HashPassword(password string) (string, error) { return Cost{}.hash(password) }

func (c Cost) hash(password string) (string, error) {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return "", ErrWeakPassword
	}
	return hashWith(password, c.params())
}

func hashWith(password string, p argonParams) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("password hash is not an argon2id PHC string")

// CheckPassword reports whether password matches the encoded hash, comparing
// in constant time. The cost comes from the hash, not from today's defaults.
func CheckPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var p argonParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, errBadHash
	}
	// Refuse absurd costs: a corrupted row must not make a sign-in eat the node.
	if p.Memory < 8*1024 || p.Memory > 1024*1024 || p.Time < 1 || p.Time > 16 || p.Threads < 1 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is checked when the user is unknown or disabled, so a failed
// sign-in costs the same whether or not the account exists.
var dummyHash = sync.OnceValue(func() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	h, err := hashWith(base64.RawStdEncoding.EncodeToString(b[:]), passwordParams)
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return h
})
