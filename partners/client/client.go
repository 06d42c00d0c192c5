// Package client is a small Go client for the mortgaged partner API that
// signs every request (partners/requestsig). Banks may use it as is, or read
// it as a reference implementation of the scheme.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"mortgaged/partners/requestsig"
)

// Client sends signed requests on behalf of one partner key.
type Client struct {
	BaseURL string // e.g. https://bdc.example.gov.cn
	KeyID   string
	Secret  []byte
	HTTP    *http.Client      // nil: http.DefaultClient
	Now     func() time.Time  // nil: time.Now
	Headers map[string]string // sent with every request, e.g. Accept
}

// New makes a client from a key as issued by the centre ("mk_<id>_<secret>").
func New(baseURL, key string) (*Client, error) {
	id, secret, err := requestsig.ParseKey(key)
	if err != nil {
		return nil, err
	}
	return &Client{BaseURL: baseURL, KeyID: id, Secret: secret}, nil
}

// Do signs and sends a request. The body is sent exactly as signed.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, contentType string, body []byte) (*http.Response, error) {
	u := c.BaseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range c.Headers {
		req.Header.Set(k, v)
	}
	if err := c.Sign(req, body); err != nil {
		return nil, err
	}
	h := c.HTTP
	if h == nil {
		h = http.DefaultClient
	}
	return h.Do(req)
}

// Sign adds the signature headers to req, whose body must be body.
func (c *Client) Sign(req *http.Request, body []byte) error {
	return c.SignDigest(req, requestsig.BodyDigest(body))
}

// SignDigest adds the signature headers to req, whose body has the given
// digest (requestsig.BodyDigest): for a body streamed rather than held.
func (c *Client) SignDigest(req *http.Request, digest string) error {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	nonce := make([]byte, 18)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	sr := requestsig.Request{Method: req.Method, Path: req.URL.EscapedPath(), Query: req.URL.Query(), BodySHA256: digest,
		Timestamp: now().Unix(), Nonce: base64.RawURLEncoding.EncodeToString(nonce)}
	req.Header.Set(requestsig.HeaderKeyID, c.KeyID)
	req.Header.Set(requestsig.HeaderTimestamp, strconv.FormatInt(sr.Timestamp, 10))
	req.Header.Set(requestsig.HeaderNonce, sr.Nonce)
	req.Header.Set(requestsig.HeaderContentSHA256, digest)
	req.Header.Set(requestsig.HeaderSignature, requestsig.Sign(c.Secret, sr))
	return nil
}
