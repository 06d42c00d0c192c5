package mortgage_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"mortgaged/internal/pii"
	"mortgaged/mortgage"
)

// consentDoc is an owner's signed authorisation to query, as a bank sends it.
func consentDoc() *mortgage.Material {
	m := doc(mortgage.ConsentKind)
	return &m
}

func encumbranceQuery(u string, owner mortgage.Party) mortgage.EncumbranceRequest {
	return mortgage.EncumbranceRequest{UnitNumber: u, Owner: owner, Consent: consentDoc()}
}

func TestQueryEncumbrances(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.addUnit(unit{form: "joint", owners: []owner{{party: zhang}, {party: li}}})
	e.decide(e.general(u))
	e.exec(`INSERT INTO seizures (unit_number, authority, document_number, seized_from) VALUES ($1, '齐齐哈尔市龙沙区人民法院', '(2026)黑0202执77号', '2026-11-01')`, u.number)
	e.exec(`INSERT INTO objections (unit_number, applicant, matter, registered_on) VALUES ($1, '赵某', '主张共有', '2026-11-20')`, u.number)
	e.exec(`INSERT INTO preregistrations (unit_number, kind, holder_name, holder_id_type, holder_id_number, registered_on) VALUES ($1, 'purchase', '王芳', '1', $2, '2026-10-01')`, u.number, wang.IDNumber)

	got, err := e.svc.QueryEncumbrances(t.Context(), "lj-bank", encumbranceQuery(u.number, li))
	if err != nil {
		t.Fatal(err)
	}
	if got.OwnershipForm != "joint" || got.CoOwners != 1 || len(got.Mortgages) != 1 || got.Mortgages[0].Rank != 1 ||
		got.Mortgages[0].Amount != "500000.00" || len(got.Seizures) != 1 || len(got.Objections) != 1 || len(got.Preregistrations) != 1 {
		t.Fatalf("encumbrances %+v", got)
	}
	if got.Owner != (mortgage.EncumbranceOwner{Name: li.Name, IDType: li.IDType, IDNumber: pii.MaskID(li.IDNumber)}) {
		t.Errorf("the asking owner %+v, want %s with the ID number masked", got.Owner, li.Name)
	}
	// The co-owner who gave no consent is counted, never named.
	b, _ := json.Marshal(got)
	for _, s := range []string{zhang.Name, zhang.IDNumber, pii.MaskID(zhang.IDNumber), li.IDNumber, "王芳"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the answer shows %q: %s", s, b)
		}
	}

	var stored struct {
		Unit, Name, IDType, IDNumber, Kind, File, Media, Sum string
		Found                                                bool
		Content                                              []byte
	}
	if err := e.db.QueryRow(`SELECT q.unit_number, q.owner_name, q.owner_id_type, q.owner_id_number, q.found,
			c.kind, c.file_name, c.media_type, encode(c.sha256, 'hex'), c.content
		FROM encumbrance_queries q JOIN encumbrance_consents c ON c.query_id = q.id WHERE q.id = $1`, got.QueryID).
		Scan(&stored.Unit, &stored.Name, &stored.IDType, &stored.IDNumber, &stored.Found, &stored.Kind, &stored.File, &stored.Media, &stored.Sum, &stored.Content); err != nil {
		t.Fatalf("the query record: %v", err)
	}
	c := consentDoc()
	if stored.Unit != u.number || stored.Name != li.Name || stored.IDNumber != li.IDNumber || !stored.Found ||
		stored.Kind != mortgage.ConsentKind || stored.File != c.FileName || stored.Media != c.MediaType || stored.Sum != c.SHA256 || !bytes.Equal(stored.Content, pdf) {
		t.Errorf("stored %+v", stored)
	}

	e.now = testNow.Add(time.Minute)
	if _, err := e.svc.QueryEncumbrances(t.Context(), "lj-bank", encumbranceQuery("230202001001GB99999F00019999", li)); !errors.Is(err, mortgage.ErrNotFound) {
		t.Errorf("unknown unit: %v", err)
	}
	mine, err := e.svc.EncumbranceQueries(t.Context(), "lj-bank", 10)
	if err != nil || len(mine) != 2 || mine[0].Found || !mine[1].Found || mine[1].ConsentSHA256 != c.SHA256 || mine[1].ID != got.QueryID {
		t.Errorf("own queries %+v %v", mine, err)
	}
	if theirs, _ := e.svc.EncumbranceQueries(t.Context(), "hc-bank", 10); len(theirs) != 0 {
		t.Errorf("another partner sees %d queries", len(theirs))
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'register.encumbrance_query'`); n != 2 {
		t.Errorf("%d audited queries, want 2", n)
	}
	var detail string
	if err := e.db.Get(&detail, `SELECT detail::text FROM audit_log WHERE action = 'register.encumbrance_query' ORDER BY at LIMIT 1`); err != nil || strings.Contains(detail, li.IDNumber) {
		t.Errorf("the audit record shows the whole ID number: %s %v", detail, err)
	}
}

// TestEncumbranceQueriesCannotEnumerate: whatever a query gets wrong about
// the owner, the answer is the plain ErrNotFound an unknown unit gets, and
// the query is recorded and counted; a query without a good consent is
// refused before anything is looked up, and neither recorded nor counted.
func TestEncumbranceQueriesCannotEnumerate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.addUnit(unit{owners: []owner{{party: zhang}}})
	wrongSum := consentDoc()
	wrongSum.SHA256 = strings.Repeat("0", 64)
	wrongKind := consentDoc()
	wrongKind.Kind = "authorisation"

	for _, tc := range []struct {
		name string
		q    mortgage.EncumbranceRequest
	}{
		{"UnknownOwner", encumbranceQuery(u.number, wang)},
		{"RightNameWrongID", encumbranceQuery(u.number, mortgage.Party{Name: zhang.Name, IDType: zhang.IDType, IDNumber: li.IDNumber})},
		{"RightIDWrongName", encumbranceQuery(u.number, mortgage.Party{Name: "张伟伟", IDType: zhang.IDType, IDNumber: zhang.IDNumber})},
		{"RightIDOtherType", encumbranceQuery(u.number, mortgage.Party{Name: zhang.Name, IDType: mortgage.IDPassport, IDNumber: zhang.IDNumber})},
		{"UnknownUnit", encumbranceQuery("230202001001GB99999F00019999", zhang)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := e.svc.QueryEncumbrances(t.Context(), "lj-bank", tc.q); !errors.Is(err, mortgage.ErrNotFound) || got != nil {
				t.Errorf("got %+v %v, want ErrNotFound", got, err)
			}
		})
	}
	if n := e.count(`SELECT count(*) FROM encumbrance_queries WHERE NOT found AND partner_id = 'lj-bank'`); n != 5 {
		t.Errorf("%d queries that found nothing recorded, want 5: probing is audited and counted", n)
	}

	for _, tc := range []struct {
		name        string
		q           mortgage.EncumbranceRequest
		field, code string
	}{
		{"NoConsent", mortgage.EncumbranceRequest{UnitNumber: u.number, Owner: zhang}, "consent", "consent_required"},
		{"WrongSHA256", mortgage.EncumbranceRequest{UnitNumber: u.number, Owner: zhang, Consent: wrongSum}, "consent.sha256", "material_sha256_mismatch"},
		{"WrongKind", mortgage.EncumbranceRequest{UnitNumber: u.number, Owner: zhang, Consent: wrongKind}, "consent.kind", "material_kind_unknown"},
		{"NoOwner", mortgage.EncumbranceRequest{UnitNumber: u.number, Consent: consentDoc()}, "owner.name", "required"},
		{"BadIDNumber", encumbranceQuery(u.number, mortgage.Party{Name: zhang.Name, IDType: zhang.IDType, IDNumber: zhang.IDNumber[:17] + "0"}), "owner.idNumber", "id_number_check_digit"},
		{"BadUnitNumber", encumbranceQuery("23020200100", zhang), "unitNumber", "unit_number_format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.QueryEncumbrances(t.Context(), "lj-bank", tc.q)
			var ve *mortgage.ValidationError
			if !errors.As(err, &ve) || !hasEncumbranceIssue(ve.Issues, tc.field, tc.code) {
				t.Errorf("got %v, want %s at %s", err, tc.code, tc.field)
			}
		})
	}
	if n := e.count(`SELECT count(*) FROM encumbrance_queries`); n != 5 {
		t.Errorf("%d queries recorded, want the 5 that were looked up", n)
	}
}

func hasEncumbranceIssue(is mortgage.Issues, field, code string) bool {
	for _, i := range is {
		if i.Field == field && string(i.Code) == code {
			return true
		}
	}
	return false
}

// TestEncumbranceOwnerInCanonicalForm: the owner is compared with the
// register after NFC normalisation of the name and with the ID number in
// upper case, so the same person spelled by another system is found.
func TestEncumbranceOwnerInCanonicalForm(t *testing.T) {
	t.Parallel()
	e := setup(t)
	x := mortgage.Party{Name: "阮氏玉 Nguyễn", IDType: mortgage.IDResident, IDNumber: residentID("23020219750505103")}
	if !strings.HasSuffix(x.IDNumber, "X") {
		t.Fatalf("want an ID number ending in X, got %s", x.IDNumber)
	}
	u := e.addUnit(unit{owners: []owner{{party: x}}})
	asked := mortgage.Party{Name: " " + norm.NFD.String(x.Name) + " ", IDType: x.IDType, IDNumber: strings.ToLower(x.IDNumber)}
	if asked.Name == " "+x.Name+" " {
		t.Fatal("the test name has no decomposed form")
	}
	got, err := e.svc.QueryEncumbrances(t.Context(), "lj-bank", encumbranceQuery(u.number, asked))
	if err != nil || got.Owner.Name != x.Name {
		t.Fatalf("decomposed name, lower-case x: %+v %v", got, err)
	}
}

// TestEncumbranceQuota: a partner's queries a business day are capped, found
// or not; past the cap a *QuotaError says how long until the next business
// day, when the count starts again. Another partner's queries do not count,
// and a partner's own quota overrides the centre's.
func TestEncumbranceQuota(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.svc.Config.EncumbranceQuota = 3
	u := e.addUnit(unit{owners: []owner{{party: zhang}}})
	ask := func(partner string, owner mortgage.Party) error {
		_, err := e.svc.QueryEncumbrances(t.Context(), partner, encumbranceQuery(u.number, owner))
		return err
	}
	for i, owner := range []mortgage.Party{zhang, wang, zhang} {
		if err := ask("lj-bank", owner); err != nil && !errors.Is(err, mortgage.ErrNotFound) {
			t.Fatalf("query %d: %v", i+1, err)
		}
	}
	// Over the quota nothing is looked up: the owner's query and a probe
	// get the same answer.
	for _, owner := range []mortgage.Party{zhang, wang} {
		var qe *mortgage.QuotaError
		if err := ask("lj-bank", owner); !errors.As(err, &qe) || qe.Quota != 3 || qe.RetryAfter != 14*time.Hour {
			t.Fatalf("fourth query: %v, want a quota error until midnight", err)
		}
	}
	if n := e.count(`SELECT count(*) FROM encumbrance_queries WHERE partner_id = 'lj-bank'`); n != 3 {
		t.Errorf("%d queries recorded, want 3", n)
	}
	if err := ask("hc-bank", zhang); err != nil {
		t.Errorf("another partner's first query: %v", err)
	}

	e.exec(`UPDATE partners SET encumbrance_quota = 4 WHERE id = 'lj-bank'`)
	if err := ask("lj-bank", zhang); err != nil {
		t.Errorf("with its own quota of 4: %v", err)
	}
	if err := ask("lj-bank", zhang); !errors.As(err, new(*mortgage.QuotaError)) {
		t.Errorf("fifth query with a quota of 4: %v", err)
	}

	e.now = time.Date(2026, 11, 26, 23, 59, 59, 0, shanghai)
	if err := ask("lj-bank", zhang); !errors.As(err, new(*mortgage.QuotaError)) {
		t.Errorf("a second before midnight: %v", err)
	}
	e.now = time.Date(2026, 11, 27, 0, 0, 0, 0, shanghai)
	if err := ask("lj-bank", zhang); err != nil {
		t.Errorf("the next business day: %v", err)
	}
}

// TestEncumbranceQuotaUnderConcurrency: queries racing for the last places
// of the quota never overrun it.
func TestEncumbranceQuotaUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.svc.Config.EncumbranceQuota = 3
	u := e.addUnit(unit{owners: []owner{{party: zhang}}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var answered, refused int
	for range 12 {
		wg.Go(func() {
			_, err := e.svc.QueryEncumbrances(t.Context(), "lj-bank", encumbranceQuery(u.number, zhang))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				answered++
			case errors.As(err, new(*mortgage.QuotaError)):
				refused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if answered != 3 || refused != 9 {
		t.Errorf("%d answered and %d refused, want 3 and 9", answered, refused)
	}
	if n := e.count(`SELECT count(*) FROM encumbrance_queries`); n != 3 {
		t.Errorf("%d queries recorded, want 3", n)
	}
}
