// Command bodybench measures what the largest bundles cost the real server
// (PROMISES A6): n of the largest allowed bundles (32 MB, three 8 MB PDFs in
// base64) sent at once by two banks, while a third partner's small requests
// measure the API's latency. It reports the server process's peak resident
// memory (VmHWM from /proc), every answer's status, and the small requests'
// p50/p99.
//
//	go run ./cmd/bodybench [-n 32] [-rounds 1] [-budget-mb 0] [-timeout 10m]
//
// It builds cmd/mortgaged, starts a private PostgreSQL cluster (fsync on, as
// production) and a fresh `mortgaged serve` child process on 127.0.0.1:0,
// nothing else: loopback only, -n × -rounds bundles, within -timeout. A 503
// (the node's body budget is full) is retried after its Retry-After, as a
// bank's system would; each bundle is a clean first registration, so the
// answers are 201 unless something is wrong. docs/BENCHMARKS.md records the
// results.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	neturl "net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"mortgaged/internal/benchproc"
	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/partners/centrejson"
	"mortgaged/partners/client"
	"mortgaged/partners/fundbatch"
	"mortgaged/partners/requestsig"
)

type options struct {
	signin    int           // sign-in flood workers instead of bundles
	flood     time.Duration // how long the sign-in flood lasts
	n, rounds int
	budgetMB  int
	timeout   time.Duration
	docBytes  int
}

// The two banks send the large bundles; the probe partner sends the small
// requests whose latency is measured.
var banks = []partners.Partner{
	{ID: "bench-a", Kind: partners.KindBank, Name: "龙江示范银行股份有限公司齐齐哈尔分行", CreditCode: mortgage.MustCreditCode("91230200MA1BANK01")},
	{ID: "bench-b", Kind: partners.KindBank, Name: "鹤城农村商业银行股份有限公司", CreditCode: mortgage.MustCreditCode("91230200MA1BANK02")},
}
var probe = partners.Partner{ID: "bench-probe", Kind: partners.KindBank, Name: "齐齐哈尔探测银行", CreditCode: mortgage.MustCreditCode("91230200MA1BANK03")}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 32, "largest bundles sent at once per round (half from each bank)")
	flag.IntVar(&o.rounds, "rounds", 1, "rounds")
	flag.IntVar(&o.budgetMB, "budget-mb", 0, "MORTGAGED_BODY_BUDGET_MB for the server (0: its default)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up after this long")
	flag.IntVar(&o.docBytes, "doc-bytes", 8_000_000, "size of each of the three PDFs (8 MB makes a 32 MB body in base64)")
	flag.IntVar(&o.signin, "signin", 0, "instead of bundles: this many workers flood the console sign-in with unknown users, each try from another 127.x address")
	flag.DurationVar(&o.flood, "flood", 20*time.Second, "how long the sign-in flood lasts")
	flag.Parse()
	if o.n < 1 || o.n > 256 || o.rounds < 1 || o.rounds > 20 || o.docBytes < 1000 || o.docBytes > mortgage.MaxMaterialBytes ||
		o.signin < 0 || o.signin > 64 || o.flood <= 0 || o.flood > 5*time.Minute {
		fmt.Fprintln(os.Stderr, "bodybench: -n 1–256, -rounds 1–20, -doc-bytes up to 10 MB, -signin 0–64, -flood up to 5m")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bodybench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	work, bin, err := benchproc.Build(ctx, "bodybench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	cl, err := benchproc.StartCluster(ctx, "bodybench-pg-", false, false)
	if err != nil {
		return err
	}
	defer cl.Close()
	d, err := cl.Database(ctx, "bodybench")
	if err != nil {
		return err
	}
	defer d.Close()
	url := cl.URL("bodybench")
	masterKey, sealer, err := benchproc.MasterKey()
	if err != nil {
		return err
	}
	reg := &partners.Registry{DB: d, Sealer: sealer}
	keys := map[string]string{}
	for _, p := range append(slices.Clone(banks), probe) {
		// Limits out of the way: this measures memory, not the per-partner rate.
		if keys[p.ID], err = benchproc.AddPartner(ctx, reg, p, 100_000, 256); err != nil {
			return err
		}
	}
	total := o.n * o.rounds
	if _, err := benchproc.LoadRegister(ctx, d, total); err != nil {
		return err
	}

	env := []string{"DATABASE_URL=" + url, "MORTGAGED_MASTER_KEY=" + masterKey,
		"MORTGAGED_PUSH=off", "MORTGAGED_BATCH=off", "MORTGAGED_METRICS_ADDR=off", "MORTGAGED_DATA=" + filepath.Join(work, "data")}
	if o.budgetMB > 0 {
		env = append(env, "MORTGAGED_BODY_BUDGET_MB="+strconv.Itoa(o.budgetMB))
	}
	srv, err := benchproc.Start(ctx, bin, env)
	if err != nil {
		return err
	}
	defer srv.Stop()

	if o.signin > 0 {
		return signinFlood(ctx, o, srv, keys[probe.ID])
	}
	big, err := largeMaterials(o.docBytes)
	if err != nil {
		return err
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	today := mortgage.DateOf(time.Now(), loc)
	fmt.Printf("bodybench: %d cores, %s; %d × %d bundles of %.1f MB from two banks, server budget %s\n",
		runtime.NumCPU(), runtime.Version(), o.rounds, o.n, float64(len(big)+2000)/(1<<20), budgetText(o.budgetMB))
	fmt.Printf("  server idle: RSS %.0f MB, VmHWM %.0f MB\n", kb(srv.Status("VmRSS")), kb(srv.Status("VmHWM")))

	statuses := map[int]int{}
	var latencies []time.Duration
	var elapsed time.Duration
	for round := range o.rounds {
		var reqs []bundle
		for i := round * o.n; i < (round+1)*o.n; i++ {
			b, err := newBundle(i, banks[i%2], keys[banks[i%2].ID], today, big)
			if err != nil {
				return err
			}
			reqs = append(reqs, b)
		}
		t0 := time.Now()
		st, lat, err := burst(ctx, srv.URL, keys[probe.ID], reqs)
		if err != nil {
			return err
		}
		elapsed += time.Since(t0)
		for k, v := range st {
			statuses[k] += v
		}
		latencies = append(latencies, lat...)
	}
	peak := srv.Status("VmHWM")
	var registered int
	if err := d.GetContext(ctx, &registered, `SELECT count(*) FROM mortgages`); err != nil {
		return err
	}
	slices.Sort(latencies)
	fmt.Printf("  answers (503s were retried after Retry-After): %s\n", statusText(statuses))
	fmt.Printf("  registered %d of %d bundles in %.1f s\n", registered, total, elapsed.Seconds())
	fmt.Printf("  server peak RSS (VmHWM) %.0f MB\n", kb(peak))
	fmt.Printf("  small requests meanwhile (GET /v1/bundles?reference=…, one at a time): %d, p50 %s, p99 %s, max %s\n",
		len(latencies), pct(latencies, 50), pct(latencies, 99), pct(latencies, 100))
	ok := kb(peak) < 600 && pct(latencies, 99) < 50*time.Millisecond && registered == total
	for s := range statuses {
		if s >= 500 && s != http.StatusServiceUnavailable || s < 200 {
			ok = false
		}
	}
	fmt.Printf("  aim (peak < 600 MB, p99 < 50 ms, only 201/4xx/503, all registered): %s\n", map[bool]string{true: "met", false: "NOT met"}[ok])
	return nil
}

func budgetText(mb int) string {
	if mb == 0 {
		return "default"
	}
	return strconv.Itoa(mb) + " MB"
}

func kb(n int64) float64 { return float64(n) / 1024 }

func pct(ls []time.Duration, p int) time.Duration {
	if len(ls) == 0 {
		return 0
	}
	i := min(len(ls)-1, (len(ls)*p+99)/100-1)
	return ls[max(i, 0)].Round(100 * time.Microsecond)
}

func statusText(m map[int]int) string {
	var keys []int
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d × %d", m[k], k))
	}
	return strings.Join(parts, ", ")
}

// largeMaterials is the JSON array of the three required documents, each a
// docBytes PDF: shared by every bundle, so the client holds it once.
func largeMaterials(docBytes int) ([]byte, error) {
	pdf := make([]byte, docBytes)
	copy(pdf, "%PDF-1.4\n")
	for i := 9; i < docBytes-6; i++ {
		pdf[i] = byte('a' + i%26)
	}
	copy(pdf[docBytes-6:], "%%EOF\n")
	sum := sha256.Sum256(pdf)
	var ms []mortgage.Material
	for _, kind := range []string{"application_form", "loan_contract", "mortgage_contract"} {
		ms = append(ms, mortgage.Material{Kind: kind, FileName: kind + ".pdf", MediaType: "application/pdf", SHA256: hex.EncodeToString(sum[:]), Content: pdf})
	}
	b, err := centrejson.EncodeApplication(&mortgage.Application{Materials: ms})
	if err != nil {
		return nil, err
	}
	var v struct{ Materials json.RawMessage }
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return v.Materials, nil
}

// bundle is one signed submission: head + materials + tail.
type bundle struct {
	head, materials, tail []byte
	digest, key           string
}

func (b bundle) body() io.Reader {
	return io.MultiReader(bytes.NewReader(b.head), bytes.NewReader(b.materials), bytes.NewReader(b.tail))
}

func newBundle(i int, bank partners.Partner, key string, today mortgage.Date, materials []byte) (bundle, error) {
	h := fundbatch.GeneratedHolding(i)
	yes := true
	app := &mortgage.Application{
		Reference: fmt.Sprintf("BODYBENCH-%06d", i), Type: mortgage.FirstGeneral,
		Units:      []mortgage.UnitRef{{UnitNumber: h.UnitNumber, TitleCertificateNumber: h.TitleCertificateNumber}},
		Mortgagors: []mortgage.Party{h.Owner},
		Mortgagee:  mortgage.Party{Name: bank.Name, IDType: mortgage.IDCreditCode, IDNumber: bank.CreditCode},
		Mortgage: &mortgage.Terms{CollateralKind: "2", PrincipalFen: 500_000_00, DebtStart: today,
			DebtEnd: mortgage.DateOf(today.AddDate(20, 0, -1), time.UTC), Scope: "主债权及利息、违约金、损害赔偿金和实现债权的费用", TransferRestricted: &yes},
	}
	b, err := centrejson.EncodeApplication(app)
	if err != nil {
		return bundle{}, err
	}
	// The application without its (empty) materials, closed by the
	// shared array: each key once.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return bundle{}, err
	}
	delete(fields, "materials")
	if b, err = json.Marshal(fields); err != nil {
		return bundle{}, err
	}
	out := bundle{head: append(b[:len(b)-1:len(b)-1], []byte(`,"materials":`)...), materials: materials, tail: []byte("}\n"), key: key}
	sum := sha256.New()
	_, _ = io.Copy(sum, out.body())
	out.digest = hex.EncodeToString(sum.Sum(nil))
	return out, nil
}

// burst sends every bundle at once (a 503 again after its Retry-After)
// while the probe sends small requests one after another, until the last
// bundle is answered. It returns the bundles' answers and the probe's
// latencies.
func burst(ctx context.Context, base, probeKey string, bundles []bundle) (map[int]int, []time.Duration, error) {
	statuses := map[int]int{}
	var mu sync.Mutex
	var firstErr error
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var wg sync.WaitGroup
	for _, b := range bundles {
		wg.Go(func() {
			for attempt := 0; ; attempt++ {
				status, retry, err := send(ctx, client, base, http.MethodPost, "/v1/bundles", b.key, b.digest, int64(len(b.head)+len(b.materials)+len(b.tail)), b.body())
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if err == nil {
					statuses[status]++
				}
				mu.Unlock()
				if err != nil || status != http.StatusServiceUnavailable || attempt > 100 {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(retry):
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var lat []time.Duration
	emptyDigest := requestsig.BodyDigest(nil)
	probeClient := &http.Client{}
	for {
		select {
		case <-done:
			return statuses, lat, firstErr
		case <-ctx.Done():
			return statuses, lat, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		t0 := time.Now()
		status, _, err := send(ctx, probeClient, base, http.MethodGet, "/v1/bundles?reference=none", probeKey, emptyDigest, 0, nil)
		if err != nil {
			return statuses, lat, err
		}
		if status != http.StatusNotFound {
			return statuses, lat, fmt.Errorf("probe: status %d", status)
		}
		lat = append(lat, time.Since(t0))
	}
}

// send signs and sends one request and reads the whole answer; for a 503
// it returns the Retry-After.
func send(ctx context.Context, c *http.Client, base, method, path, key, digest string, size int64, body io.Reader) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return 0, 0, err
	}
	req.ContentLength = size
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	signer, err := client.New("", key)
	if err != nil {
		return 0, 0, err
	}
	if err := signer.SignDigest(req, digest); err != nil {
		return 0, 0, err
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
		return res.StatusCode, 0, fmt.Errorf("%s %s: %d %.300s", method, path, res.StatusCode, b)
	}
	secs, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	return res.StatusCode, time.Duration(max(secs, 1)) * time.Second, nil
}

// signinFlood sends o.signin sign-in attempts at a time for unknown users
// with wrong passwords, each from another loopback address (so only the
// hashing bound holds them, not the per-address throttle), for o.flood,
// while the probe partner's small requests are timed.
func signinFlood(ctx context.Context, o options, srv *benchproc.Server, probeKey string) error {
	fmt.Printf("bodybench: %d cores, %s; %d workers flood the console sign-in for %s\n", runtime.NumCPU(), runtime.Version(), o.signin, o.flood)
	fmt.Printf("  server idle: RSS %.0f MB, VmHWM %.0f MB\n", kb(srv.Status("VmRSS")), kb(srv.Status("VmHWM")))
	fctx, cancel := context.WithTimeout(ctx, o.flood)
	defer cancel()
	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range o.signin {
		wg.Go(func() {
			for i := 0; fctx.Err() == nil; i++ {
				ip := fmt.Sprintf("127.1.%d.%d", w, i%250+1)
				status, err := signinOnce(fctx, srv.URL, ip, fmt.Sprintf("nobody%d", i))
				if err != nil {
					continue // the flood's end cancels requests in flight
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var lat []time.Duration
	probeClient := &http.Client{}
	for fctx.Err() == nil {
		t0 := time.Now()
		status, _, err := send(ctx, probeClient, srv.URL, http.MethodGet, "/v1/bundles?reference=none", probeKey, requestsig.BodyDigest(nil), 0, nil)
		if err != nil {
			return err
		}
		if status != http.StatusNotFound {
			return fmt.Errorf("probe: status %d", status)
		}
		lat = append(lat, time.Since(t0))
		select {
		case <-fctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	<-done
	slices.Sort(lat)
	fmt.Printf("  sign-in answers: %s\n", statusText(statuses))
	fmt.Printf("  server peak RSS (VmHWM) %.0f MB\n", kb(srv.Status("VmHWM")))
	fmt.Printf("  small requests meanwhile: %d, p50 %s, p99 %s, max %s\n", len(lat), pct(lat, 50), pct(lat, 99), pct(lat, 100))
	return nil
}

// signinOnce fetches the sign-in form and posts it once, from ip.
func signinOnce(ctx context.Context, base, ip, user string) (int, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/console/signin", nil)
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	_, rest, _ := strings.Cut(string(page), `name="csrf" value="`)
	token, _, _ := strings.Cut(rest, `"`)
	form := neturl.Values{"csrf": {token}, "username": {user}, "password": {"not-the-password"}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/console/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err = c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}
