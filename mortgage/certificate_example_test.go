package mortgage_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mortgaged/internal/certkeys"
)

// The worked example in docs/formats/certificate-v1.md signs the golden
// general certificate with a published example key. Ed25519 signatures are
// deterministic, so every value in the example is fixed.
const (
	exampleKeyID = "k2026-6578616d"
	exampleDir   = "../docs/examples"
	exampleDoc   = "../docs/formats/certificate-v1.md"
)

func exampleKey() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("mortgaged certificate-v1 worked example: never use this key"))
	return ed25519.NewKeyFromSeed(seed[:])
}

// TestWorkedExample keeps docs/examples/certificate-v1.* and the values and
// code in docs/formats/certificate-v1.md true: the document is the issued
// certificate (TestCertificateGolden checks it against a real issuance), the
// envelope's signature verifies with the example key list, and the
// verification recipes in the doc (OpenSSL, Python) accept it and reject
// one flipped byte.
func TestWorkedExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("testdata", "certificate-general.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	xdoc, err := os.ReadFile(filepath.Join("testdata", "certificate-general.golden.xml"))
	if err != nil {
		t.Fatal(err)
	}
	priv := exampleKey()
	pub := priv.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(priv, doc)
	env := certkeys.Envelope{Format: certkeys.EnvelopeFormat, Number: "黑(2026)齐齐哈尔市不动产证明第0000001号", Status: "valid",
		VerificationCode: "H7K3M9XPQ2", KeyID: exampleKeyID, Algorithm: certkeys.Algorithm, MediaType: "application/json",
		Document: base64.StdEncoding.EncodeToString(doc), Signature: base64.StdEncoding.EncodeToString(sig)}
	envJSON, _ := json.MarshalIndent(env, "", "  ")
	created := time.Date(2026, 1, 5, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	keySet, err := certkeys.MarshalKeySet([]certkeys.PublicKey{{ID: exampleKeyID, Algorithm: certkeys.Algorithm, Key: pub, CreatedAt: created}}, created.Location())
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"certificate-v1.json":          doc,
		"certificate-v1.xml":           xdoc,
		"certificate-v1.envelope.json": append(envJSON, '\n'),
		"mortgaged-keys.example.json":  append(keySet, '\n'),
	}
	for name, want := range files {
		path := filepath.Join(exampleDir, name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date (go test -update rewrites it)", path)
		}
	}

	// The values quoted in the doc.
	md, err := os.ReadFile(exampleDoc)
	if err != nil {
		t.Fatal(err)
	}
	for what, value := range map[string]string{
		"public key":         base64.StdEncoding.EncodeToString(pub),
		"signature":          env.Signature,
		"key id":             exampleKeyID,
		"document SHA-256":   hexSHA256(doc),
		"document length":    itoa(len(doc)),
		"verification code":  "H7K3M9XPQ2",
		"key list path":      certkeys.KeySetPath,
		"envelope format":    certkeys.EnvelopeFormat,
		"certificate format": `"format":"mortgaged-certificate/v1"`,
	} {
		if !bytes.Contains(md, []byte(value)) {
			t.Errorf("%s does not quote the example's %s: %s", exampleDoc, what, value)
		}
	}

	// The library agrees, and one flipped byte fails.
	keys, err := certkeys.ParseKeySet(keySet)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Verify(keys); err != nil {
		t.Fatalf("example envelope: %v", err)
	}
	bad := bytes.Clone(doc)
	bad[len(bad)/2] ^= 1
	if err := certkeys.Verify(keys, exampleKeyID, bad, sig); !errors.Is(err, certkeys.ErrBadSignature) {
		t.Errorf("flipped example: %v", err)
	}

	t.Run("OpenSSL", func(t *testing.T) { exampleOpenSSL(t, md, doc, bad) })
	t.Run("Python", func(t *testing.T) { examplePython(t, md, envJSON, keySet, bad) })
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 64)
	for _, c := range s {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

var openSSLBlock = regexp.MustCompile("(?s)```sh\n([^`]*openssl pkeyutl[^`]*)```")

// exampleOpenSSL runs the doc's OpenSSL 3 recipe, as written, on the
// example document and on a copy with one byte flipped.
func exampleOpenSSL(t *testing.T, md, doc, bad []byte) {
	if _, err := exec.LookPath("openssl"); err != nil {
		skipOutsideCI(t, "openssl not installed (Debian: apt-get install openssl)")
	}
	m := openSSLBlock.FindSubmatch(md)
	if m == nil {
		t.Fatalf("%s has no OpenSSL recipe", exampleDoc)
	}
	run := func(document []byte) (string, error) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "docs", "examples"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "docs", "examples", "certificate-v1.json"), document, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", "-e", "-c", string(m[1]))
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(doc); err != nil || !strings.Contains(out, "Signature Verified Successfully") {
		t.Fatalf("the doc's OpenSSL recipe: %v\n%s", err, out)
	}
	if out, err := run(bad); err == nil {
		t.Errorf("the doc's OpenSSL recipe accepted a flipped byte:\n%s", out)
	}
}

var pythonBlock = regexp.MustCompile("(?s)```python\n(.*?)```")

// pythonWithCryptography is the first python3 that imports cryptography:
// the one on PATH (perhaps a version manager's), else the system's, where
// Debian's python3-cryptography installs it.
func pythonWithCryptography() string {
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import cryptography").Run() == nil {
			return p
		}
	}
	return ""
}

// examplePython runs the doc's Python snippet on the example files.
func examplePython(t *testing.T, md, envJSON, keySet, bad []byte) {
	python := pythonWithCryptography()
	if python == "" {
		skipOutsideCI(t, "python3 with the cryptography package not installed (Debian: apt-get install python3-cryptography)")
	}
	m := pythonBlock.FindSubmatch(md)
	if m == nil {
		t.Fatalf("%s has no python example", exampleDoc)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "verify.py")
	if err := os.WriteFile(script, m[1], 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(envelope []byte) (string, error) {
		if err := os.WriteFile(filepath.Join(dir, "certificate-v1.envelope.json"), envelope, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "mortgaged-keys.example.json"), keySet, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(python, script)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(envJSON); err != nil || !strings.Contains(out, "valid") {
		t.Fatalf("python example: %v\n%s", err, out)
	}
	var env map[string]any
	_ = json.Unmarshal(envJSON, &env)
	env["document"] = base64.StdEncoding.EncodeToString(bad)
	flipped, _ := json.Marshal(env)
	if out, err := run(flipped); err == nil {
		t.Errorf("python example accepted a flipped byte:\n%s", out)
	}
}

// skipOutsideCI skips the test on a developer's machine that lacks a tool
// the docs' recipes need; in CI (CI set, as .ci/run does) the tool must be
// there, so its absence fails the test instead.
func skipOutsideCI(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why + ": CI must run this check")
	}
	t.Skip(why + "; CI runs this check")
}
