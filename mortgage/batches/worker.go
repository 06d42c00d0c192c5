package batches

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mortgaged/internal/db"
	"mortgaged/mortgage"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// Item is one record of a batch file as its format's decoder reads it.
type Item struct {
	Index     int    // 0-based position in the file
	Reference string // the partner's own reference for the record, as written
	// Application is the canonical application; nil when the record's
	// structure is unreadable.
	Application *mortgage.Application
	Issues      mortgage.Issues // the record's decode faults
}

// Decoder streams a stored batch file, calling fn with each record in
// file order. It is the format's (partners/fundbatch); the domain only
// decides what it is given.
type Decoder func(r io.Reader, fn func(Item) error) error

// Worker decides the records of uploaded batches. Every node runs one:
// it claims a batch no live node holds, keeps its claim alive while it
// works, decides records several at a time, and stores each record's result
// once. A node that dies mid-batch loses its claim when the lease runs out
// and another node (or the same one restarted) resumes, skipping records
// with a result; a record decided but not yet recorded when the node died
// replays its bundle (Submit is idempotent on the record's reference), so
// every record is decided exactly once.
type Worker struct {
	Service *mortgage.Service
	Decode  Decoder
	// Render is the answer stored with each record's bundle, returned if
	// the partner ever asks for the bundle again by its reference; nil
	// stores the decision as plain JSON.
	Render mortgage.Renderer
	Node   string        // this node's name in claims
	Lease  time.Duration // how long a claim outlives its last renewal (30 s)
	// Parallel is how many records are decided at once (8). Records that
	// share a unit are decided one after another, in file order, so ranks
	// follow the file.
	Parallel   int
	Poll       time.Duration // how often an idle node looks for work (1 s)
	RetryAfter time.Duration // the wait before a batch left with undecided records is taken again (30 s)
	Log        *slog.Logger

	// MaxBackoff caps the wait between attempts while the database is
	// unavailable: Poll, doubling up to this (60 s).
	MaxBackoff time.Duration

	after func(time.Duration) <-chan time.Time // time.After; tests count the waits
}

// store is where the worker's batches are kept: the service's database.
func (w *Worker) store() *Store { return &Store{Service: w.Service} }

func (w *Worker) defaults() {
	if w.Lease <= 0 {
		w.Lease = 30 * time.Second
	}
	if w.Parallel <= 0 {
		w.Parallel = 8
	}
	if w.Poll <= 0 {
		w.Poll = time.Second
	}
	if w.MaxBackoff < w.Poll {
		w.MaxBackoff = max(w.Poll, 60*time.Second)
	}
	if w.after == nil {
		w.after = time.After
	}
	if w.RetryAfter <= 0 {
		w.RetryAfter = 30 * time.Second
	}
	if w.Render == nil {
		w.Render = func(d *mortgage.Decision) (mortgage.Answer, error) {
			b, err := json.Marshal(d)
			return mortgage.Answer{Status: 201, Body: b}, err // as POST /v1/bundles answers a decision
		}
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
}

// Run works until ctx ends. A batch in hand when ctx ends is left cleanly:
// records being decided finish, their results are stored, and the claim is
// released so another node takes over at once.
//
// While the database is unavailable it backs off (Poll doubling up to
// MaxBackoff) and logs only when the outage starts and when it ends.
func (w *Worker) Run(ctx context.Context) {
	w.defaults()
	outage := db.NewOutage(w.Poll, w.MaxBackoff)
	for {
		worked, err := w.RunOnce(ctx)
		wait := w.Poll
		switch {
		case ctx.Err() != nil:
		case err != nil && db.IsUnavailable(err):
			var started bool
			if wait, started = outage.Down(); started {
				w.Log.Warn("batch processing paused: database unavailable", slog.Any("error", err))
			}
		default:
			if outage.Up() {
				w.Log.Info("batch processing resumed: database available")
			}
			if err != nil {
				w.Log.Error("batch processing", slog.Any("error", err))
			}
		}
		if worked && err == nil && ctx.Err() == nil {
			continue // there may be more
		}
		select {
		case <-ctx.Done():
			return
		case <-w.after(wait):
		}
	}
}

// RunOnce claims one batch and works on it until every record is decided
// (then finishes it), the pass cannot go on, or ctx ends. It reports
// whether there was a batch to claim.
func (w *Worker) RunOnce(ctx context.Context) (bool, error) {
	w.defaults()
	b, err := w.store().claim(ctx, w.Node, w.Lease)
	if err != nil || b == nil {
		return false, err
	}
	return true, w.process(ctx, b)
}

// recordTimeout bounds the deciding of one record once started: it runs to
// its end even when the node is stopping, so a stop never wastes it.
const recordTimeout = time.Minute

func (w *Worker) process(ctx context.Context, b *claimedBatch) error {
	s, st := w.Service, w.store()
	log := w.Log.With(slog.String("batch", b.ID), slog.String("node", w.Node))
	// Records already decided and work in flight must survive ctx ending:
	// only the dispatch of new records stops.
	bg := context.WithoutCancel(ctx)
	start := time.Now()
	done, err := st.decidedRecords(ctx, b.ID, b.Records)
	if err != nil {
		return w.release(bg, b, err)
	}
	skipped := 0
	for _, d := range done {
		if d {
			skipped++
		}
	}
	log.Info("batch claimed", slog.Int("records", b.Records), slog.Int("decided_before", skipped))
	if b.Mortgagees, err = s.PartnerMortgagees(ctx, b.PartnerID); err != nil {
		return w.release(bg, b, err)
	}

	// The lease is renewed while we work; if another node has taken the
	// batch (we stalled past the lease), stop dispatching.
	dispatch, stop := context.WithCancel(ctx)
	defer stop()
	lost := atomic.Bool{}
	go func() {
		t := time.NewTicker(w.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-dispatch.Done():
				return
			case <-t.C:
				ok, err := st.renewClaim(bg, b.ID, w.Node, w.Lease)
				if err != nil {
					log.Warn("batch claim not renewed", slog.Any("error", err))
					continue
				}
				if !ok {
					log.Warn("batch claim lost to another node")
					lost.Store(true)
					stop()
					return
				}
			}
		}
	}()

	var (
		gate     = newUnitGate()
		work     = make(chan Item)
		results  = make(chan mortgage.BatchRecord, 4*w.Parallel)
		failed   atomic.Int64
		firstErr atomic.Value
		workers  sync.WaitGroup
	)
	for range w.Parallel {
		workers.Go(func() {
			for it := range work {
				rctx, cancel := context.WithTimeout(bg, recordTimeout)
				rec, err := w.decide(rctx, b, it)
				cancel()
				gate.release(it)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("record %d: %v", it.Index+1, err))
					log.Warn("batch record not decided", slog.Int("index", it.Index+1), slog.Any("error", err))
					continue
				}
				results <- rec
			}
		})
	}
	recorded := make(chan error, 1)
	go func() { recorded <- w.record(bg, b.ID, results) }()

	file := &batchFile{ctx: dispatch, db: s.DB, id: b.ID, chunks: b.Chunks}
	decodeErr := w.Decode(file, func(it Item) error {
		if dispatch.Err() != nil {
			return dispatch.Err()
		}
		if it.Index < 0 || it.Index >= len(done) {
			return fmt.Errorf("record index %d outside the batch's %d records", it.Index, len(done))
		}
		if done[it.Index] {
			return nil
		}
		gate.acquire(it)
		select {
		case work <- it:
			return nil
		case <-dispatch.Done():
			gate.release(it)
			return dispatch.Err()
		}
	})
	close(work)
	workers.Wait()
	close(results)
	recordErr := <-recorded

	switch {
	case lost.Load():
		return nil // the node holding it now carries on
	case decodeErr != nil && ctx.Err() == nil:
		return w.release(bg, b, fmt.Errorf("read the stored file: %w", decodeErr))
	case recordErr != nil:
		return w.release(bg, b, recordErr)
	}
	finished, err := st.finish(bg, b.ID)
	if err != nil {
		return w.release(bg, b, err)
	}
	if finished {
		log.Info("batch finished", slog.Int("records", b.Records), slog.Int("decided_now", b.Records-skipped),
			slog.Duration("took", time.Since(start).Round(time.Millisecond)))
		return nil
	}
	if ctx.Err() != nil {
		// Stopping: let another node (or this one, restarted) carry on now.
		return w.release(bg, b, nil)
	}
	msg, _ := firstErr.Load().(string)
	return w.release(bg, b, fmt.Errorf("%d record(s) not decided in this pass, first: %s", failed.Load(), msg))
}

// release gives the batch back: at once when the node is stopping (cause
// nil), else after RetryAfter, with the cause noted and returned.
func (w *Worker) release(ctx context.Context, b *claimedBatch, cause error) error {
	notBefore, msg := w.Service.Now(), ""
	if cause != nil {
		notBefore, msg = notBefore.Add(w.RetryAfter), cause.Error()
	}
	if err := w.store().releaseClaim(ctx, b.ID, w.Node, notBefore, msg); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// record stores results as they come, a few hundred per statement: a
// result lost in a crash before it is stored costs only a replay.
func (w *Worker) record(ctx context.Context, batchID string, results <-chan mortgage.BatchRecord) error {
	const most, every = 256, 200 * time.Millisecond
	var (
		buf  []mortgage.BatchRecord
		errs error
	)
	flush := func() {
		if len(buf) == 0 {
			return
		}
		if err := w.store().recordResults(ctx, batchID, buf); err != nil {
			errs = errors.Join(errs, err)
		}
		buf = buf[:0]
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case r, ok := <-results:
			if !ok {
				flush()
				return errs
			}
			buf = append(buf, r)
			if len(buf) >= most {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

// decide decides one record: refused with every fault when it cannot be
// read or fails validation, otherwise submitted like any bundle under the
// record's own reference. An error means the record is still undecided
// (the database failed, say) and is tried again in a later pass.
func (w *Worker) decide(ctx context.Context, b *claimedBatch, it Item) (mortgage.BatchRecord, error) {
	s := w.Service
	rec := mortgage.BatchRecord{Index: it.Index, Reference: it.Reference}
	sub := mortgage.Submitter{PartnerID: b.PartnerID, CreditCode: b.CreditCode, Mortgagees: b.Mortgagees}
	ref := b.batch().RecordReference(it.Index)
	issues := it.Issues
	if it.Application != nil {
		// The partner's own reference is checked as for any submission;
		// the bundle is then filed under the record's reference.
		issues = mortgage.MergeIssues(it.Issues, mortgage.Validate(it.Application, s.Rules(sub)))
	}
	if len(issues) == 0 {
		out, err := s.SubmitRecord(ctx, sub, it.Application, ref, w.Render)
		var ve *mortgage.ValidationError
		var ce *mortgage.ConflictError
		switch {
		case err == nil && !out.Replayed:
			return recordOf(rec, out.Decision)
		case err == nil:
			// Decided in an earlier pass that died before storing the
			// result, or the same record (its own reference, the same
			// content) decided before, in another batch or on its own: the
			// first decision stands.
			d, err := s.Bundle(ctx, b.PartnerID, out.BundleID)
			if err != nil {
				return rec, fmt.Errorf("replayed bundle %s: %w", out.BundleID, err)
			}
			return recordOf(rec, d)
		case errors.As(err, &ve):
			issues = ve.Issues
		case errors.As(err, &ce):
			// The reference is the record's, but the content hashes
			// differently than when its bundle was made (a new version of
			// this software reading the file): that bundle is the record's.
			d, err := s.Bundle(ctx, b.PartnerID, ce.BundleID)
			if err != nil {
				return rec, fmt.Errorf("bundle %s of reference %s: %w", ce.BundleID, ref, err)
			}
			return recordOf(rec, d)
		default:
			return rec, err
		}
	}
	// Refused before a bundle was made, unless an earlier pass made one:
	// the rules of the day (or this software) may have changed since, and
	// what was decided then stands.
	switch d, err := s.BundleByReference(ctx, b.PartnerID, ref); {
	case err == nil:
		return recordOf(rec, d)
	case !errors.Is(err, mortgage.ErrNotFound):
		return rec, err
	}
	rec.Status, rec.Reasons, rec.DecidedAt = mortgage.StatusRejected, issues.Sorted(), s.Now().Truncate(time.Microsecond)
	return rec, nil
}

// recordOf is a record's result from its bundle's decision.
func recordOf(rec mortgage.BatchRecord, d *mortgage.Decision) (mortgage.BatchRecord, error) {
	rec.BundleID, rec.DecidedAt = d.BundleID, d.DecidedAt
	switch d.Status {
	case mortgage.StatusRegistered:
		if d.Registration == nil {
			return rec, fmt.Errorf("bundle %s is registered without a certificate", d.BundleID)
		}
		rec.Status, rec.CertificateNumber = mortgage.StatusRegistered, d.Registration.CertificateNumber
		at := d.Registration.RegisteredAt
		rec.RegisteredAt = &at
	case mortgage.StatusRejected:
		rec.Status, rec.Reasons = mortgage.StatusRejected, d.Reasons
	default: // at the desk (or since withdrawn from it): staff decide
		rec.Status, rec.Reasons = mortgage.StatusDesk, d.DeskReasons
		rec.DecidedAt = d.ReceivedAt
	}
	if rec.DecidedAt.IsZero() {
		rec.DecidedAt = d.ReceivedAt
	}
	return rec, nil
}

// unitGate lets records that share a unit through one at a time, in the
// order they arrive, and the rest at once.
type unitGate struct {
	mu   sync.Mutex
	cond *sync.Cond
	busy map[string]bool
}

func newUnitGate() *unitGate {
	g := &unitGate{busy: map[string]bool{}}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func unitsOf(it Item) []string {
	if it.Application == nil {
		return nil
	}
	out := make([]string, 0, len(it.Application.Units))
	for _, u := range it.Application.Units {
		out = append(out, u.UnitNumber)
	}
	return out
}

// acquire waits until none of the record's units is being decided. Records
// in flight always finish, so the wait ends.
func (g *unitGate) acquire(it Item) {
	units := unitsOf(it)
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.anyBusy(units) {
		g.cond.Wait()
	}
	for _, u := range units {
		g.busy[u] = true
	}
}

func (g *unitGate) anyBusy(units []string) bool {
	for _, u := range units {
		if g.busy[u] {
			return true
		}
	}
	return false
}

func (g *unitGate) release(it Item) {
	units := unitsOf(it)
	if len(units) == 0 {
		return
	}
	g.mu.Lock()
	for _, u := range units {
		delete(g.busy, u)
	}
	g.mu.Unlock()
	g.cond.Broadcast()
}

// batchFile reads a stored batch file back, one chunk at a time.
type batchFile struct {
	ctx    context.Context
	db     *sqlx.DB
	id     string
	chunks int
	next   int
	cur    []byte
}

func (f *batchFile) Read(p []byte) (int, error) {
	for len(f.cur) == 0 {
		if f.next >= f.chunks {
			return 0, io.EOF
		}
		var data []byte
		if err := f.db.GetContext(f.ctx, &data, `SELECT data FROM batch_chunks WHERE batch_id = $1 AND seq = $2`, f.id, f.next); err != nil {
			return 0, fmt.Errorf("read batch %s chunk %d: %w", f.id, f.next, err)
		}
		f.cur, f.next = data, f.next+1
	}
	n := copy(p, f.cur)
	f.cur = f.cur[n:]
	return n, nil
}
