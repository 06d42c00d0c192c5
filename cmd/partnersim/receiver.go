package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"mortgaged/sync/pushsig"
)

// receiver is the bank's callback endpoint.
type receiver struct {
	key      []byte
	failLeft int
	failWith string

	mu           sync.Mutex
	requests     int
	injected     int
	badSig       int
	stale        int
	malformed    int
	duplicates   int
	accepted     map[string]time.Time // event id → first accepted
	byType       map[string]int
	committed    map[string]time.Time // bundle id → when its 201 arrived here
	sinceCommit  []time.Duration
	sinceOccured []time.Duration
	changed      chan struct{}
}

func newReceiver(key []byte, fail int, failWith string) *receiver {
	return &receiver{key: key, failLeft: fail, failWith: failWith, accepted: map[string]time.Time{},
		byType: map[string]int{}, committed: map[string]time.Time{}, changed: make(chan struct{}, 1)}
}

// submitted notes when the centre committed a bundle we sent, to measure
// commit → arrival.
func (rc *receiver) submitted(bundleID string, at time.Time) {
	rc.mu.Lock()
	rc.committed[bundleID] = at
	rc.mu.Unlock()
}

func (rc *receiver) handler(path string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+path, rc.callback)
	return mux
}

func (rc *receiver) callback(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
	arrived := time.Now()
	rc.mu.Lock()
	rc.requests++
	inject := rc.failLeft > 0
	if inject {
		rc.failLeft--
		rc.injected++
	}
	rc.mu.Unlock()
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if inject {
		rc.fail(w, r)
		return
	}
	// Verify before anything else, over the raw bytes.
	if _, err := pushsig.Verify(rc.key, r.Header, body, arrived, pushsig.DefaultTolerance); err != nil {
		rc.mu.Lock()
		if strings.Contains(err.Error(), "timestamp") {
			rc.stale++
		} else {
			rc.badSig++
		}
		rc.mu.Unlock()
		http.Error(w, "signature: "+err.Error(), http.StatusUnauthorized)
		return
	}
	evs, err := events(body)
	if err != nil {
		rc.mu.Lock()
		rc.malformed++
		rc.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	for _, e := range evs {
		if _, seen := rc.accepted[e.ID]; seen {
			rc.duplicates++ // already processed: answer 2xx, do nothing twice
			continue
		}
		rc.accepted[e.ID] = arrived
		rc.byType[e.Type]++
		if at, ok := rc.committed[e.bundleID()]; ok {
			rc.sinceCommit = append(rc.sinceCommit, arrived.Sub(at))
		}
		if t, err := time.Parse(time.RFC3339Nano, e.OccurredAt); err == nil {
			rc.sinceOccured = append(rc.sinceOccured, arrived.Sub(t))
		}
	}
	rc.mu.Unlock()
	select {
	case rc.changed <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusNoContent)
}

// fail answers with the injected failure.
func (rc *receiver) fail(w http.ResponseWriter, r *http.Request) {
	switch rc.failWith {
	case "timeout":
		select { // never answer; the centre gives up after its timeout
		case <-r.Context().Done():
		case <-time.After(5 * time.Minute):
		}
	case "reset":
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		w.WriteHeader(http.StatusInternalServerError)
	case "503", "429":
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(map[string]int{"503": 503, "429": 429}[rc.failWith])
	case "410":
		w.WriteHeader(http.StatusGone)
	default:
		w.WriteHeader(http.StatusInternalServerError)
	}
}

// event is what the simulator reads of an event.
type event struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	OccurredAt string `json:"occurredAt"`
	Bundle     *struct {
		BundleID string `json:"bundleId"`
	} `json:"bundle"`
	Decision *struct {
		BundleID string `json:"bundleId"`
	} `json:"decision"`
}

func (e event) bundleID() string {
	switch {
	case e.Bundle != nil:
		return e.Bundle.BundleID
	case e.Decision != nil:
		return e.Decision.BundleID
	}
	return ""
}

// events reads one event, or a batch document {"events": […]}.
func events(body []byte) ([]event, error) {
	var doc struct {
		Events []event `json:"events"`
		event
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("not an event: %v", err)
	}
	if doc.Events != nil {
		return doc.Events, nil
	}
	if doc.ID == "" {
		return nil, fmt.Errorf("an event without an id")
	}
	return []event{doc.event}, nil
}

// waitFor returns once n distinct events have arrived (n > 0) or ctx ends.
func (rc *receiver) waitFor(ctx context.Context, n int) {
	for {
		rc.mu.Lock()
		got := len(rc.accepted)
		rc.mu.Unlock()
		if n > 0 && got >= n {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-rc.changed:
		}
	}
}

// report is what arrived.
type report struct {
	Seconds       float64        `json:"seconds"`
	Requests      int            `json:"requests"`
	Accepted      int            `json:"accepted"`   // distinct events processed
	Duplicates    int            `json:"duplicates"` // events that arrived again after being accepted
	Expected      int            `json:"expected,omitempty"`
	ByType        map[string]int `json:"byType"`
	Injected      int            `json:"injectedFailures"`
	BadSignatures int            `json:"badSignatures"`
	Stale         int            `json:"staleTimestamps"`
	Malformed     int            `json:"malformed"`
	SinceCommit   *latency       `json:"commitToArrival,omitempty"`   // for bundles submitted here: from the 201 answer
	SinceOccurred *latency       `json:"occurredToArrival,omitempty"` // from occurredAt (whole seconds in the centre's format)
}

type latency struct {
	N                  int
	Min, P50, P95, Max float64 // seconds
}

func summarise(ds []time.Duration) *latency {
	if len(ds) == 0 {
		return nil
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 { return s[min(len(s)-1, int(q*float64(len(s))))].Seconds() }
	return &latency{N: len(s), Min: s[0].Seconds(), P50: at(0.5), P95: at(0.95), Max: s[len(s)-1].Seconds()}
}

func (rc *receiver) report(elapsed time.Duration, expect int) report {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return report{Seconds: elapsed.Seconds(), Requests: rc.requests, Accepted: len(rc.accepted), Duplicates: rc.duplicates,
		Expected: expect, ByType: rc.byType, Injected: rc.injected, BadSignatures: rc.badSig, Stale: rc.stale,
		Malformed: rc.malformed, SinceCommit: summarise(rc.sinceCommit), SinceOccurred: summarise(rc.sinceOccured)}
}

func (r report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "partnersim report after %.1f s\n", r.Seconds)
	fmt.Fprintf(&b, "  requests received      %d\n", r.Requests)
	fmt.Fprintf(&b, "  events accepted        %d distinct", r.Accepted)
	if r.Expected > 0 {
		fmt.Fprintf(&b, " of %d expected", r.Expected)
	}
	b.WriteString("\n")
	types := make([]string, 0, len(r.ByType))
	for t := range r.ByType {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		fmt.Fprintf(&b, "    %-22s %d\n", t, r.ByType[t])
	}
	fmt.Fprintf(&b, "  duplicates             %d (answered 2xx again, not processed twice)\n", r.Duplicates)
	fmt.Fprintf(&b, "  injected failures      %d\n", r.Injected)
	fmt.Fprintf(&b, "  bad signatures         %d\n", r.BadSignatures)
	fmt.Fprintf(&b, "  stale timestamps       %d\n", r.Stale)
	fmt.Fprintf(&b, "  malformed              %d\n", r.Malformed)
	for _, l := range []struct {
		name string
		l    *latency
	}{{"commit → arrival", r.SinceCommit}, {"occurredAt → arrival", r.SinceOccurred}} {
		if l.l != nil {
			fmt.Fprintf(&b, "  %-22s n=%d min %.3f s  p50 %.3f s  p95 %.3f s  max %.3f s\n", l.name, l.l.N, l.l.Min, l.l.P50, l.l.P95, l.l.Max)
		}
	}
	return b.String()
}
