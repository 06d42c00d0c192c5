package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/certkeys"
	"mortgaged/internal/pgtest"
)

// runBinary runs mortgaged to completion and returns its output and exit code.
func runBinary(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append(os.Environ(), "MORTGAGED_MASTER_KEY="+testMasterKey), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run mortgaged %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

func httpGet(t *testing.T, rawURL, key string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	if key != "" {
		var err error
		if req, err = signedRequest(http.MethodGet, rawURL, key, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", rawURL, res.StatusCode, b)
	}
	return b
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// registerCertificate submits body to the server at addr and returns the
// certificate's envelope as GET /v1/certificates/{number}?envelope=1 gives it.
func registerCertificate(t *testing.T, addr, key string, body []byte) (number string, envelope []byte) {
	t.Helper()
	status, answer, err := post(addr, key, body)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("register: %d %s %v", status, answer, err)
	}
	var d struct {
		Registration struct {
			CertificateNumber string `json:"certificateNumber"`
		} `json:"registration"`
	}
	if err := json.Unmarshal(answer, &d); err != nil || d.Registration.CertificateNumber == "" {
		t.Fatalf("answer %s: %v", answer, err)
	}
	number = d.Registration.CertificateNumber
	return number, httpGet(t, addr+"/v1/certificates/"+url.PathEscape(number)+"?envelope=1", key)
}

// TestOfflineVerify proves PROMISES R2 with the real binary: a certificate
// saved from the API or from an event verifies offline against the
// published keys, one flipped byte anywhere fails, and after a key rotation
// old certificates still verify while new ones use the new key.
func TestOfflineVerify(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	d, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bank, key := addBank(t, d)
	body := cleanBundle(t, d, bank, "LJB-VERIFY-1")
	env := []string{"DATABASE_URL=" + dbURL}
	p := start(t, env, "serve", "-addr", "127.0.0.1:0")

	number, envelope := registerCertificate(t, p.addr, key, body)
	keysURL := p.addr + certkeys.KeySetPath
	keysFile := writeFile(t, "keys.json", httpGet(t, keysURL, ""))
	envFile := writeFile(t, "certificate.json", envelope)

	verify := func(keys, file string) (string, int) {
		t.Helper()
		out, errOut, code := runBinary(t, nil, "verify", "-keys", keys, file)
		return out + errOut, code
	}
	for _, keys := range []string{keysFile, keysURL} {
		out, code := verify(keys, envFile)
		if code != 0 || !strings.Contains(out, "有效") || !strings.Contains(out, "valid: ") || !strings.Contains(out, number) {
			t.Fatalf("verify -keys %s: exit %d\n%s", keys, code, out)
		}
	}

	t.Run("FlippedByte", func(t *testing.T) {
		var e certkeys.Envelope
		if err := json.Unmarshal(envelope, &e); err != nil {
			t.Fatal(err)
		}
		doc, _ := base64.StdEncoding.DecodeString(e.Document)
		n := len(doc)
		for _, pos := range []int{0, 1, 17, n / 5, n / 3, n / 2, 2 * n / 3, n - 20, n - 2, n - 1} {
			bad := bytes.Clone(doc)
			bad[pos] ^= 0x04
			f := e
			f.Document = base64.StdEncoding.EncodeToString(bad)
			b, _ := json.Marshal(f)
			out, code := verify(keysFile, writeFile(t, "flipped.json", b))
			if code == 0 || !strings.Contains(out, "无效") || !strings.Contains(out, "invalid") {
				t.Errorf("byte %d of %d flipped: exit %d\n%s", pos, n, code, out)
			}
		}
		sig, _ := base64.StdEncoding.DecodeString(e.Signature)
		sig[len(sig)/2] ^= 0x01
		f := e
		f.Signature = base64.StdEncoding.EncodeToString(sig)
		b, _ := json.Marshal(f)
		if out, code := verify(keysFile, writeFile(t, "badsig.json", b)); code == 0 {
			t.Errorf("flipped signature verified:\n%s", out)
		}
	})

	t.Run("XMLAndEventPayload", func(t *testing.T) {
		req, err := signedRequest(http.MethodGet, p.addr+"/v1/certificates/"+url.PathEscape(number)+"?envelope=1", key, nil, map[string]string{"Accept": "application/xml"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		xmlEnvelope, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !bytes.Contains(xmlEnvelope, []byte(`"mediaType": "application/xml"`)) {
			t.Fatalf("XML envelope %s", xmlEnvelope)
		}
		var event []byte
		if err := d.Get(&event, `SELECT payload FROM events WHERE type = 'bundle.registered'`); err != nil {
			t.Fatal(err)
		}
		for name, b := range map[string][]byte{"xml": xmlEnvelope, "event": event} {
			if out, code := verify(keysFile, writeFile(t, name+".json", b)); code != 0 || !strings.Contains(out, number) {
				t.Errorf("%s: exit %d\n%s", name, code, out)
			}
		}
	})

	t.Run("KeyRotation", func(t *testing.T) {
		out, errOut, code := runBinary(t, env, "keys", "rotate")
		if code != 0 || !strings.Contains(out, "new signing key k") {
			t.Fatalf("keys rotate: exit %d\n%s%s", code, out, errOut)
		}
		// A node started after the rotation signs with the new key.
		p2 := start(t, env, "serve", "-addr", "127.0.0.1:0")
		second := bytes.Replace(body, []byte("LJB-VERIFY-1"), []byte("LJB-VERIFY-2"), 1)
		_, newEnvelope := registerCertificate(t, p2.addr, key, second)
		var oldE, newE certkeys.Envelope
		_ = json.Unmarshal(envelope, &oldE)
		_ = json.Unmarshal(newEnvelope, &newE)
		if oldE.KeyID == newE.KeyID || newE.KeyID == "" {
			t.Fatalf("key ids before %q and after %q the rotation", oldE.KeyID, newE.KeyID)
		}
		freshKeys := writeFile(t, "keys.json", httpGet(t, p2.addr+certkeys.KeySetPath, ""))
		for name, b := range map[string][]byte{"old": envelope, "new": newEnvelope} {
			if out, code := verify(freshKeys, writeFile(t, name+".json", b)); code != 0 {
				t.Errorf("%s certificate against the keys published after rotation: exit %d\n%s", name, code, out)
			}
		}
		// The key list from before the rotation does not know the new key.
		if out, code := verify(keysFile, writeFile(t, "new.json", newEnvelope)); code == 0 || !strings.Contains(out, newE.KeyID) {
			t.Errorf("new certificate against the old key list: exit %d\n%s", code, out)
		}
		list, _, code := runBinary(t, env, "keys", "list")
		if code != 0 || strings.Count(list, "retired") != 1 || strings.Count(list, "active") != 1 ||
			!strings.Contains(list, oldE.KeyID) || !strings.Contains(list, newE.KeyID) {
			t.Errorf("keys list: exit %d\n%s", code, list)
		}
		p2.terminate()
	})
	p.terminate()
}
