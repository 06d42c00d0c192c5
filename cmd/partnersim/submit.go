package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"mortgaged/mortgage"
	"mortgaged/mortgage/registerdata"
	"mortgaged/partners/centrejson"
	mgdclient "mortgaged/partners/client"
)

// bundle is one request body to submit.
type bundle struct {
	name string
	body []byte
}

// loadBundles reads -submit's folder or generates -generate bundles.
func loadBundles(o options) ([]bundle, error) {
	if o.submitDir != "" {
		names, err := filepath.Glob(filepath.Join(o.submitDir, "*.json"))
		if err != nil {
			return nil, err
		}
		sort.Strings(names)
		var out []bundle
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				return nil, err
			}
			out = append(out, bundle{filepath.Base(n), b})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no *.json bundles in %s", o.submitDir)
		}
		return out, nil
	}
	return generate(o)
}

// generate writes first registrations of general mortgages on clean homes
// of the demo register, as the demo bank. The register is regenerated from
// its size and seed, as 'mortgaged serve --demo' loaded it.
func generate(o options) ([]bundle, error) {
	demo, err := registerdata.GenerateDemo(io.Discard, o.demoUnits, o.demoSeed)
	if err != nil {
		return nil, err
	}
	bank, ok := demo.Partner(o.bank)
	if !ok {
		return nil, fmt.Errorf("no demo partner %q", o.bank)
	}
	shanghai := time.FixedZone("CST", 8*3600)
	today := mortgage.DateOf(time.Now(), shanghai)
	run := time.Now().Format("150405")
	no := false
	var out []bundle
	for _, u := range demo.Clean {
		if len(out) == o.generate {
			break
		}
		if u.Use != "residential" || len(u.Owners) != 1 || u.Owners[0].IDType != mortgage.IDResident {
			continue
		}
		ref := fmt.Sprintf("SIM-%s-%s-%05d", today.Format("20060102"), run, len(out)+1)
		app := &mortgage.Application{
			Reference: ref, Type: mortgage.FirstGeneral,
			Units:      []mortgage.UnitRef{u.Ref()},
			Mortgagors: u.Parties(),
			Mortgagee:  mortgage.Party{Name: bank.Name, IDType: mortgage.IDCreditCode, IDNumber: bank.CreditCode},
			Mortgage: &mortgage.Terms{CollateralKind: "2", PrincipalFen: 500_000_00, DebtStart: today,
				DebtEnd: mortgage.Date{Time: today.AddDate(20, 0, -1)}, Scope: "主债权及利息、违约金、损害赔偿金和实现债权的费用",
				TransferRestricted: &no},
			Materials: []mortgage.Material{pdf("application_form", ref), pdf("loan_contract", ref), pdf("mortgage_contract", ref)},
		}
		b, err := centrejson.EncodeApplication(app)
		if err != nil {
			return nil, err
		}
		out = append(out, bundle{ref, b})
	}
	if len(out) < o.generate {
		return nil, fmt.Errorf("the demo register has only %d clean homes for -generate %d", len(out), o.generate)
	}
	return out, nil
}

func pdf(kind, ref string) mortgage.Material {
	content := []byte("%PDF-1.4\n% " + kind + " " + ref + "\n%%EOF\n")
	sum := sha256.Sum256(content)
	return mortgage.Material{Kind: kind, FileName: kind + ".pdf", MediaType: "application/pdf",
		SHA256: hex.EncodeToString(sum[:]), Content: content}
}

// submission counts the answers.
type submission struct {
	decided, registered, rejected, failed int
	statuses                              map[int]int
}

func (s submission) String() string {
	return fmt.Sprintf("%d decided (%d registered, %d rejected), %d not decided; statuses %v",
		s.decided, s.registered, s.rejected, s.failed, s.statuses)
}

// submit sends the bundles, a few at a time, and tells the receiver when
// each decision was committed (its answer arrived).
func submit(ctx context.Context, server, key string, bundles []bundle, concurrency int, rc *receiver) submission {
	var mu sync.Mutex
	s := submission{statuses: map[int]int{}}
	work := make(chan bundle)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: time.Minute}
	for range max(concurrency, 1) {
		wg.Go(func() {
			for b := range work {
				status, answer, err := post(ctx, client, server, key, b.body)
				at := time.Now()
				var d struct {
					BundleID string `json:"bundleId"`
					Status   string `json:"status"`
				}
				json.Unmarshal(answer, &d)
				mu.Lock()
				s.statuses[status]++
				switch {
				case err != nil || (status != http.StatusCreated && status != http.StatusOK):
					s.failed++
					if err != nil {
						fmt.Fprintf(os.Stderr, "partnersim: %s: %v\n", b.name, err)
					} else {
						fmt.Fprintf(os.Stderr, "partnersim: %s: %d %s\n", b.name, status, strings.TrimSpace(string(answer)))
					}
				default:
					s.decided++
					if d.Status == "registered" {
						s.registered++
					} else {
						s.rejected++
					}
				}
				mu.Unlock()
				if d.BundleID != "" && status == http.StatusCreated {
					rc.submitted(d.BundleID, at)
				}
			}
		})
	}
	for _, b := range bundles {
		select {
		case work <- b:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	return s
}

// post submits one bundle, signed as docs/signed-requests.md says.
func post(ctx context.Context, client *http.Client, server, key string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(server, "/")+"/v1/bundles", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	signer, err := mgdclient.New("", key)
	if err != nil {
		return 0, nil, err
	}
	if err := signer.Sign(req, body); err != nil {
		return 0, nil, err
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, b, err
}
