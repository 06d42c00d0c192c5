// Command batchbench measures batch uploads through the real server: how
// long a provident-fund batch takes to upload, to be decided record by
// record, and to download as a results file, and the server process's peak
// resident memory (VmHWM) while it does.
//
//	go run ./cmd/batchbench [-records 10000,100000] [-parallel 8]
//
// It builds cmd/mortgaged, starts a private PostgreSQL cluster with fsync
// on (as production), and for each size: a fresh database with one unit
// and owner per record, a fresh server process (so its peak memory is the
// run's), a generated file uploaded as a signed, streamed request, then
// polls the database until the batch is finished. docs/BENCHMARKS.md
// records its results.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/benchproc"
	"mortgaged/mortgage"
	"mortgaged/partners"
	"mortgaged/partners/client"
	"mortgaged/partners/fundbatch"
	"mortgaged/partners/requestsig"
)

var fundCentre = mortgage.Party{Name: "齐齐哈尔市住房公积金管理中心", IDType: mortgage.IDCreditCode, IDNumber: "12230200MB1GJJ0012"}

type options struct {
	sizes      []int
	parallel   int
	keep       bool
	statements bool
}

func main() {
	var o options
	sizes := flag.String("records", "10000,100000", "batch sizes to run, comma-separated")
	flag.IntVar(&o.parallel, "parallel", 0, "records decided at once (MORTGAGED_BATCH_PARALLEL; 0: the server's default)")
	flag.BoolVar(&o.keep, "keep", false, "keep the private cluster's folder")
	flag.BoolVar(&o.statements, "statements", false, "load pg_stat_statements and print where PostgreSQL spent its time while records were decided")
	flag.Parse()
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "batchbench: -records: %q is not a positive number\n", s)
			os.Exit(2)
		}
		o.sizes = append(o.sizes, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "batchbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	work, bin, err := benchproc.Build(ctx, "batchbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	cl, err := benchproc.StartCluster(ctx, "batchbench-pg-", o.keep, o.statements)
	if err != nil {
		return err
	}
	defer func() {
		cl.Close()
		if cl.Keep {
			fmt.Printf("kept the cluster in %s; start it with\n  %s\n", cl.Dir(), cl.StartCommand())
		}
	}()
	pgVersion, err := cl.ServerVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("batchbench: %d cores, %s, PostgreSQL %s (fsync on), %s/%s\n", runtime.NumCPU(), runtime.Version(), pgVersion, runtime.GOOS, runtime.GOARCH)
	for _, n := range o.sizes {
		name := fmt.Sprintf("batch%d", n)
		d, err := cl.Database(ctx, name)
		if err != nil {
			return fmt.Errorf("%d records: %w", n, err)
		}
		r, err := runOne(ctx, o, bin, work, d, cl.URL(name), n)
		d.Close()
		if err != nil {
			return fmt.Errorf("%d records: %w", n, err)
		}
		r.print()
	}
	return nil
}

// result is one run's measurements.
type result struct {
	records, registered, rejected, desk int
	fileBytes, resultsBytes             int64
	upload, process, download           time.Duration
	rssBeforeUpload, peakAfterUpload    int64 // kB, the server process's VmRSS before the upload and VmHWM after it
	peakRSS                             int64 // kB, VmHWM at the end
}

func (r result) print() {
	fmt.Printf("\n%d records (%.1f MB file):\n", r.records, float64(r.fileBytes)/1e6)
	fmt.Printf("  upload, stored and verified   %7.2f s  (%.1f MB/s)\n", r.upload.Seconds(), float64(r.fileBytes)/1e6/r.upload.Seconds())
	fmt.Printf("  records decided               %7.2f s  (%.0f records/s; %d registered, %d rejected, %d to staff)\n",
		r.process.Seconds(), float64(r.records)/r.process.Seconds(), r.registered, r.rejected, r.desk)
	fmt.Printf("  upload to finished            %7.2f s  (%.0f records/s)\n", (r.upload + r.process).Seconds(), float64(r.records)/(r.upload+r.process).Seconds())
	fmt.Printf("  results file downloaded       %7.2f s  (%.1f MB)\n", r.download.Seconds(), float64(r.resultsBytes)/1e6)
	fmt.Printf("  server peak RSS (VmHWM)       %7.1f MB (RSS %.1f MB before the upload, peak %.1f MB once uploaded)\n",
		float64(r.peakRSS)/1024, float64(r.rssBeforeUpload)/1024, float64(r.peakAfterUpload)/1024)
}

// runOne measures one size against d, a fresh migrated database at url.
func runOne(ctx context.Context, o options, bin, work string, d *sqlx.DB, url string, n int) (result, error) {
	r := result{records: n}
	masterKey, sealer, err := benchproc.MasterKey()
	if err != nil {
		return r, err
	}
	reg := &partners.Registry{DB: d, Sealer: sealer}
	key, err := benchproc.AddPartner(ctx, reg, partners.Partner{ID: "bench-gjj", Kind: partners.KindFundCentre, Name: fundCentre.Name, CreditCode: fundCentre.IDNumber}, 0, 0)
	if err != nil {
		return r, err
	}
	holdings, err := loadRegister(ctx, d, n)
	if err != nil {
		return r, err
	}
	file := filepath.Join(work, fmt.Sprintf("batch-%d.xml", n))
	digest, size, err := writeBatch(file, n, holdings)
	if err != nil {
		return r, err
	}
	r.fileBytes = size

	env := []string{"DATABASE_URL=" + url, "MORTGAGED_MASTER_KEY=" + masterKey,
		"MORTGAGED_PUSH=off", "MORTGAGED_DATA=" + filepath.Join(work, "data"), "MORTGAGED_BATCH_POLL=100ms"}
	if o.parallel > 0 {
		env = append(env, "MORTGAGED_BATCH_PARALLEL="+strconv.Itoa(o.parallel))
	}
	srv, err := benchproc.Start(ctx, bin, env)
	if err != nil {
		return r, err
	}
	defer srv.Stop()
	r.rssBeforeUpload = srv.Status("VmRSS")

	t0 := time.Now()
	id, err := upload(ctx, srv.URL, key, file, digest, size)
	if err != nil {
		return r, err
	}
	r.upload = time.Since(t0)
	r.peakAfterUpload = srv.Status("VmHWM")
	t1 := time.Now()
	for {
		var b struct {
			Status                     string
			Registered, Rejected, Desk int
		}
		if err := d.GetContext(ctx, &b, `SELECT status, registered, rejected, desk FROM batches WHERE id = $1`, id); err != nil {
			return r, err
		}
		if b.Status == "finished" {
			r.process = time.Since(t1)
			r.registered, r.rejected, r.desk = b.Registered, b.Rejected, b.Desk
			break
		}
		if srv.Exited() {
			return r, fmt.Errorf("the server exited; its log: %s", srv.Log())
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	t2 := time.Now()
	if r.resultsBytes, err = download(ctx, srv.URL, key, id); err != nil {
		return r, err
	}
	r.download = time.Since(t2)
	r.peakRSS = srv.Status("VmHWM")
	if o.statements {
		return r, printStatements(ctx, d)
	}
	return r, nil
}

// printStatements shows the statements PostgreSQL spent most time on.
func printStatements(ctx context.Context, d *sqlx.DB) error {
	var rows []struct {
		Query  string  `db:"query"`
		Calls  int64   `db:"calls"`
		ExecMs float64 `db:"exec_ms"`
		PlanMs float64 `db:"plan_ms"`
	}
	if err := d.SelectContext(ctx, &rows, `SELECT query, calls, total_exec_time AS exec_ms, total_plan_time AS plan_ms FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_statements%'
		ORDER BY total_exec_time + total_plan_time DESC LIMIT 15`); err != nil {
		return err
	}
	fmt.Printf("  PostgreSQL time by statement (execution + planning):\n")
	for _, r := range rows {
		q := strings.Join(strings.Fields(r.Query), " ")
		if len(q) > 110 {
			q = q[:110] + "…"
		}
		fmt.Printf("  %7.0f + %5.0f ms %8d calls %6.3f ms/call  %s\n", r.ExecMs, r.PlanMs, r.Calls, (r.ExecMs+r.PlanMs)/float64(r.Calls), q)
	}
	return nil
}

// loadRegister puts one unit and its owner in the register per record.
func loadRegister(ctx context.Context, d *sqlx.DB, n int) ([]fundbatch.Holding, error) {
	hs, err := benchproc.LoadRegister(ctx, d, n)
	if err != nil {
		return nil, err
	}
	_, err = d.ExecContext(ctx, `ANALYZE units, owners`)
	return hs, err
}

// writeBatch generates the file on disk and returns its digest and size.
func writeBatch(path string, n int, hs []fundbatch.Holding) (string, int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	sum := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, sum)}
	today := mortgage.DateOf(time.Now(), time.FixedZone("CST", 8*3600))
	if _, err := fundbatch.Generate(cw, fundbatch.GenerateOptions{BatchNumber: fmt.Sprintf("GJJ-BENCH-%d-%d", n, time.Now().Unix()),
		Date: today, Records: n, Mortgagee: fundCentre, Holdings: hs}); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(sum.Sum(nil)), cw.n, f.Close()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// signed signs a request whose body has the given digest, streaming the
// body rather than holding it.
func signed(req *http.Request, key, digest string) error {
	c, err := client.New("", key)
	if err != nil {
		return err
	}
	return c.SignDigest(req, digest)
}

func upload(ctx context.Context, base, key, path, digest string, size int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/batches", bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/xml")
	if err := signed(req, key, digest); err != nil {
		return "", err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("upload: %d %s", res.StatusCode, body)
	}
	var a struct{ BatchID string }
	if err := json.Unmarshal(body, &a); err != nil {
		return "", err
	}
	return a.BatchID, nil
}

func download(ctx context.Context, base, key, id string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/batches/"+id+"/results", nil)
	if err != nil {
		return 0, err
	}
	if err := signed(req, key, requestsig.BodyDigest(nil)); err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return 0, fmt.Errorf("results: %d %s", res.StatusCode, b)
	}
	return io.Copy(io.Discard, res.Body)
}
