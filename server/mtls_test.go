package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lib/pq"

	"mortgaged/server"
)

// certificate makes a certificate for name signed by parent (self-signed when nil).
func certificate(t *testing.T, name string, parent *tls.Certificate, isCA bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: isCA, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"127.0.0.1"}}
	signer, signerKey := tmpl, any(key)
	if parent != nil {
		signer, signerKey = parent.Leaf, parent.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// TestMutualTLS: a partner that registered a client certificate must present
// it; another partner's certificate, or none, is 403 even with a valid key.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	ca := certificate(t, "齐齐哈尔市不动产登记中心 合作机构 CA", nil, true)
	bankCert := certificate(t, "lj-bank", &ca, false)
	otherCert := certificate(t, "hc-bank", &ca, false)
	var srv *server.Server
	a := setup(t, func(s *server.Server) { srv = s })
	sum := sha256.Sum256(bankCert.Certificate[0])
	if _, err := a.db.Exec(`UPDATE partners SET client_cert_sha256 = $1 WHERE id = 'lj-bank'`, pq.Array([]string{hex.EncodeToString(sum[:])})); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Leaf)
	ts := httptest.NewUnstartedServer(srv)
	ts.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	ts.StartTLS()
	t.Cleanup(ts.Close)

	get := func(partner string, cert *tls.Certificate) int {
		tr := ts.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		c := a.client(ts.URL, partner)
		c.HTTP = &http.Client{Transport: tr}
		res, err := c.Do(t.Context(), http.MethodGet, "/v1/bundles", map[string][]string{"reference": {"none"}}, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, c := range []struct {
		name    string
		partner string
		cert    *tls.Certificate
		want    int
	}{
		{"OK", "lj-bank", &bankCert, http.StatusNotFound}, // authenticated: the bundle does not exist
		{"ErrNoCertificate", "lj-bank", nil, http.StatusForbidden},
		{"ErrAnotherPartnersCertificate", "lj-bank", &otherCert, http.StatusForbidden},
		{"OKPartnerWithoutCertificates", "hc-bank", nil, http.StatusNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := get(c.partner, c.cert); got != c.want {
				t.Errorf("status %d, want %d", got, c.want)
			}
		})
	}
}
