package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mortgaged/internal/pii"
	"mortgaged/mortgage"
	"mortgaged/server"
)

// coOwner is the other owner of a jointly owned unit; the queries here are
// made on behalf of owner, and coOwner never consented to anything.
var coOwner = mortgage.Party{Name: "李静", IDType: mortgage.IDResident, IDNumber: residentID("23020319870721024")}

// jointUnit adds a unit owned jointly by owner and coOwner.
func (a *api) jointUnit() string {
	a.t.Helper()
	n, _ := a.unit()
	if _, err := a.db.Exec(`UPDATE units SET ownership_form = 'joint' WHERE unit_number = $1`, n); err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.db.Exec(`INSERT INTO owners (unit_number, seq, name, id_type, id_number) VALUES ($1, 2, $2, '1', $3)`,
		n, coOwner.Name, coOwner.IDNumber); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// consentJSON is the owner's signed authorisation as the wire carries it.
func consentJSON() map[string]any {
	m := material(mortgage.ConsentKind)
	return map[string]any{"kind": m.Kind, "fileName": m.FileName, "mediaType": m.MediaType, "sha256": m.SHA256,
		"content": base64.StdEncoding.EncodeToString(m.Content)}
}

// encumbranceBody is a query for unit on behalf of p; consent nil leaves it out.
func encumbranceBody(unit string, p mortgage.Party, consent map[string]any) []byte {
	q := map[string]any{"unitNumber": unit, "owner": map[string]any{"name": p.Name, "idType": p.IDType, "idNumber": p.IDNumber}}
	if consent != nil {
		q["consent"] = consent
	}
	b, _ := json.Marshal(q)
	return b
}

func (a *api) queryEncumbrances(partner string, body []byte) response {
	return a.do(http.MethodPost, "/v1/encumbrance-queries", partner, "application/json", body)
}

// TestEncumbranceQuery: the owner's bank, with the owner's consent, learns
// the owner's own holding and everything that burdens the unit, and the
// other owner only as a count; the query is stored with its consent and
// listed to the bank that made it alone.
func TestEncumbranceQuery(t *testing.T) {
	t.Parallel()
	a := setup(t)
	c := loadContract(t)
	n := a.jointUnit()
	r := a.queryEncumbrances(bankA.ID, encumbranceBody(n, owner, consentJSON()))
	c.check(t, http.MethodPost, "/v1/encumbrance-queries", r)
	e := r.json(t)
	if r.status != http.StatusOK || e["ownershipForm"] != "joint" || e["coOwners"] != 1.0 {
		t.Fatalf("query: %d %s", r.status, r.body)
	}
	if o := object(e["owner"]); o["name"] != owner.Name || o["idNumber"] != pii.MaskID(owner.IDNumber) {
		t.Errorf("the asking owner: %v", o)
	}
	for _, s := range []string{owner.IDNumber, coOwner.Name, coOwner.IDNumber, pii.MaskID(coOwner.IDNumber)} {
		if strings.Contains(string(r.body), s) {
			t.Errorf("the answer shows %q: %s", s, r.body)
		}
	}

	var content []byte
	var sum string
	if err := a.db.QueryRow(`SELECT c.content, encode(c.sha256, 'hex') FROM encumbrance_consents c
		JOIN encumbrance_queries q ON q.id = c.query_id WHERE q.id = $1 AND q.partner_id = $2 AND q.owner_id_number = $3 AND q.found`,
		e["queryId"], bankA.ID, owner.IDNumber).Scan(&content, &sum); err != nil || !bytes.Equal(content, pdf) || sum != material("").SHA256 {
		t.Errorf("the stored consent: %q %s %v", content, sum, err)
	}

	mine := a.do(http.MethodGet, "/v1/encumbrance-queries", bankA.ID, "", nil)
	c.check(t, http.MethodGet, "/v1/encumbrance-queries", mine)
	if qs, _ := mine.json(t)["queries"].([]any); len(qs) != 1 || object(qs[0])["queryId"] != e["queryId"] || object(qs[0])["consentSha256"] != sum {
		t.Errorf("own queries: %d %s", mine.status, mine.body)
	}
	if qs, _ := a.do(http.MethodGet, "/v1/encumbrance-queries", bankB.ID, "", nil).json(t)["queries"].([]any); len(qs) != 0 {
		t.Errorf("another partner sees %d queries", len(qs))
	}
}

// TestEncumbranceQueryEnumeration: each way of asking about someone who is
// not the unit's owner gets exactly the answer an unknown unit gets; a
// query without a good consent is 422 naming the field, a body that is not
// strictly one query is 400, and the old route points to the new one.
func TestEncumbranceQueryEnumeration(t *testing.T) {
	t.Parallel()
	a := setup(t)
	c := loadContract(t)
	n := a.jointUnit()
	stranger := mortgage.Party{Name: "王芳", IDType: mortgage.IDResident, IDNumber: residentID("23020419850303345")}

	unknownUnit := a.queryEncumbrances(bankA.ID, encumbranceBody("230202001001GB99999F00019999", owner, consentJSON()))
	c.check(t, http.MethodPost, "/v1/encumbrance-queries", unknownUnit)
	if unknownUnit.status != http.StatusNotFound || problemCode(t, unknownUnit) != "not_found" {
		t.Fatalf("unknown unit: %d %s", unknownUnit.status, unknownUnit.body)
	}
	for _, tc := range []struct {
		name string
		who  mortgage.Party
	}{
		{"UnknownOwner", stranger},
		{"RightNameWrongID", mortgage.Party{Name: owner.Name, IDType: owner.IDType, IDNumber: stranger.IDNumber}},
		{"RightIDWrongName", mortgage.Party{Name: stranger.Name, IDType: owner.IDType, IDNumber: owner.IDNumber}},
		{"CoOwnersNameOwnersID", mortgage.Party{Name: coOwner.Name, IDType: owner.IDType, IDNumber: owner.IDNumber}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.queryEncumbrances(bankA.ID, encumbranceBody(n, tc.who, consentJSON()))
			c.check(t, http.MethodPost, "/v1/encumbrance-queries", r)
			if r.status != unknownUnit.status || !bytes.Equal(r.body, unknownUnit.body) || r.header.Get("Content-Type") != unknownUnit.header.Get("Content-Type") {
				t.Errorf("%d %s, want what an unknown unit gets: %d %s", r.status, r.body, unknownUnit.status, unknownUnit.body)
			}
		})
	}

	badSum := consentJSON()
	badSum["sha256"] = strings.Repeat("ab", 32)
	badBase64 := consentJSON()
	badBase64["content"] = "not base64!"
	otherKind := consentJSON()
	otherKind["kind"] = "authorisation"
	good := string(encumbranceBody(n, owner, consentJSON()))
	for _, tc := range []struct {
		name, contentType string
		body              string
		status            int
		code, field       string
	}{
		{"NoConsent", "application/json", string(encumbranceBody(n, owner, nil)), 422, "consent_required", "consent"},
		{"WrongSHA256", "application/json", string(encumbranceBody(n, owner, badSum)), 422, "material_sha256_mismatch", "consent.sha256"},
		{"ConsentNotBase64", "application/json", string(encumbranceBody(n, owner, badBase64)), 422, "material_base64", "consent.content"},
		{"ConsentOfAnotherKind", "application/json", string(encumbranceBody(n, owner, otherKind)), 422, "material_kind_unknown", "consent.kind"},
		{"NoOwner", "application/json", `{"unitNumber":"` + n + `","consent":` + asJSON(consentJSON()) + `}`, 422, "required", "owner.name"},
		{"DuplicateKey", "application/json", strings.Replace(good, `"name":`, `"name":"`+stranger.Name+`","name":`, 1), 400, "json_duplicate_key", "owner.name"},
		{"EscapedDuplicateKey", "application/json", strings.Replace(good, `"unitNumber":`, `"unitNumber":"230202001001GB99999F00019999","\u0075nitNumber":`, 1), 400, "json_duplicate_key", "unitNumber"},
		{"CaseVariantKey", "application/json", strings.Replace(good, `"unitNumber":`, `"UNITNUMBER":`, 1), 400, "json_unknown_field", "UNITNUMBER"},
		{"UnknownField", "application/json", strings.Replace(good, `{`, `{"consentReference":"x",`, 1), 400, "json_unknown_field", "consentReference"},
		{"Empty", "application/json", "", 400, "body_empty", ""},
		{"NotJSON", "application/xml", "<query/>", 415, "unsupported_media_type", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do(http.MethodPost, "/v1/encumbrance-queries", bankA.ID, tc.contentType, []byte(tc.body))
			c.check(t, http.MethodPost, "/v1/encumbrance-queries", r)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			var p server.Problem
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			if tc.status == 422 {
				p.Code = ""
				for _, i := range p.Errors {
					if i.Field == tc.field {
						p.Code = i.Code
					}
				}
			} else if tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field) {
				t.Errorf("errors %v, want the field %s", p.Errors, tc.field)
			}
			if string(p.Code) != tc.code {
				t.Errorf("code %q, want %q: %s", p.Code, tc.code, r.body)
			}
		})
	}

	// A partner whose bundles are XML sends the query as JSON and reads its
	// problems as problem+json, with the JSON body's field paths.
	if _, err := a.db.Exec(`UPDATE partners SET format = 'centre-xml-v1' WHERE id = $1`, bankB.ID); err != nil {
		t.Fatal(err)
	}
	xmlPartner := a.queryEncumbrances(bankB.ID, encumbranceBody(n, owner, badSum))
	c.check(t, http.MethodPost, "/v1/encumbrance-queries", xmlPartner)
	if ct := xmlPartner.header.Get("Content-Type"); xmlPartner.status != 422 || ct != "application/problem+json" || !strings.Contains(string(xmlPartner.body), `"field":"consent.sha256"`) {
		t.Errorf("an XML partner's bad consent: %d %s %s", xmlPartner.status, ct, xmlPartner.body)
	}

	old := a.do(http.MethodGet, "/v1/units/"+n+"/encumbrances?consentReference=x", bankA.ID, "", nil)
	c.check(t, http.MethodGet, "/v1/units/{unitNumber}/encumbrances", old)
	if old.status != http.StatusGone || problemCode(t, old) != "encumbrance_query_moved" || !strings.Contains(string(old.body), "POST /v1/encumbrance-queries") {
		t.Errorf("the old route: %d %s", old.status, old.body)
	}
	// Only the queries that were looked up are recorded: the unknown unit
	// and the four strangers.
	var recorded int
	if err := a.db.Get(&recorded, `SELECT count(*) FROM encumbrance_queries WHERE NOT found`); err != nil || recorded != 5 {
		t.Errorf("%d queries recorded, want 5 (%v)", recorded, err)
	}
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// queryClock is a test clock the server reads while the test moves it.
type queryClock struct{ at atomic.Int64 }

func (c *queryClock) Now() time.Time        { return time.Unix(0, c.at.Load()).In(shanghai) }
func (c *queryClock) Set(t time.Time)       { c.at.Store(t.UnixNano()) }
func newQueryClock(t time.Time) *queryClock { c := &queryClock{}; c.Set(t); return c }
func withQueryClock(c *queryClock) func(*server.Server) {
	return func(s *server.Server) { s.Service.Now = c.Now }
}

// TestEncumbranceQuota: past its daily quota (the partner's own, set as
// `mortgaged partner limits -encumbrance-quota` does) a partner gets 429
// with Retry-After until the next business day, found or not found alike
// counting; another partner is not affected; the next day it may ask again.
func TestEncumbranceQuota(t *testing.T) {
	t.Parallel()
	clk := newQueryClock(time.Date(2026, 11, 26, 10, 0, 0, 0, shanghai))
	a := setup(t, withQueryClock(clk))
	c := loadContract(t)
	if err := a.registry.SetEncumbranceQuota(t.Context(), bankA.ID, 2); err != nil {
		t.Fatal(err)
	}
	n := a.jointUnit()
	stranger := mortgage.Party{Name: "王芳", IDType: mortgage.IDResident, IDNumber: residentID("23020419850303345")}
	if r := a.queryEncumbrances(bankA.ID, encumbranceBody(n, owner, consentJSON())); r.status != http.StatusOK {
		t.Fatalf("first query: %d %s", r.status, r.body)
	}
	if r := a.queryEncumbrances(bankA.ID, encumbranceBody(n, stranger, consentJSON())); r.status != http.StatusNotFound {
		t.Fatalf("second query: %d %s", r.status, r.body)
	}
	for _, who := range []mortgage.Party{owner, stranger} {
		r := a.queryEncumbrances(bankA.ID, encumbranceBody(n, who, consentJSON()))
		c.check(t, http.MethodPost, "/v1/encumbrance-queries", r)
		if r.status != http.StatusTooManyRequests || problemCode(t, r) != "quota_exceeded" || r.header.Get("Retry-After") != strconv.Itoa(14*3600) {
			t.Fatalf("over the quota: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
		}
	}
	if r := a.queryEncumbrances(bankB.ID, encumbranceBody(n, owner, consentJSON())); r.status != http.StatusOK {
		t.Errorf("another partner: %d %s", r.status, r.body)
	}
	clk.Set(time.Date(2026, 11, 27, 0, 0, 1, 0, shanghai))
	if r := a.queryEncumbrances(bankA.ID, encumbranceBody(n, owner, consentJSON())); r.status != http.StatusOK {
		t.Errorf("the next business day: %d %s", r.status, r.body)
	}
}

// TestEncumbranceQueryExample sends the worked example of docs/openapi.json
// through the real server, against the example register, and expects the
// documented answer (query id and time aside).
func TestEncumbranceQueryExample(t *testing.T) {
	t.Parallel()
	a := setup(t)
	c := loadContract(t)
	seedExampleRegister(t, a)
	op := c.operation(http.MethodPost, "/v1/encumbrance-queries")
	example := func(content any) any {
		return object(object(object(object(content)["application/json"])["examples"])["owner"])["value"]
	}
	request, want := example(object(op["requestBody"])["content"]), example(object(object(op["responses"])["200"])["content"])
	if request == nil || want == nil {
		t.Fatal("docs/openapi.json has no worked example for POST /v1/encumbrance-queries")
	}
	body, _ := json.Marshal(request)
	r := a.queryEncumbrances(bankA.ID, body)
	c.check(t, http.MethodPost, "/v1/encumbrance-queries", r)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	got := r.json(t)
	for _, k := range []string{"queryId", "asOf"} {
		if got[k] == nil {
			t.Errorf("no %s", k)
		}
		delete(got, k)
		delete(object(want), k)
	}
	if !reflect.DeepEqual(got, want) {
		gb, _ := json.MarshalIndent(got, "", "  ")
		t.Errorf("answer differs from the documented example:\n%s", gb)
	}
}
