package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mortgaged/internal/pgtest"
	"mortgaged/partners/client"
)

// binary is the real mortgaged, built once for these tests.
var binary string

// testMasterKey is the master key (base64 of 32 bytes) the tests' processes share.
const testMasterKey = "dGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzLWV4YWN0bHk="

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mortgaged-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "mortgaged")
	if out, err := exec.Command("go", "build", "-tags", "crashtest", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build mortgaged: %v\n%s", err, out)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	pgtest.Main(m, pgtest.Migrate)
}

// process is a running mortgaged whose log lines the test can wait for.
type process struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string
	addr  string
	// metrics is the metrics listener's URL, empty when off.
	metrics string
	done    chan struct{}
	log     *syncBuffer // the process's stdout
}

// syncBuffer is a buffer the process's output is copied into while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the binary with args and extra environment, and waits until it
// listens (or, with waitFor "", returns at once).
func start(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, args...)
	// Every process of a test shares one master key, as the nodes of an
	// installation must; env may override it ("MORTGAGED_MASTER_KEY=" uses
	// the data folder's master.key).
	cmd.Env = append(append(os.Environ(), "MORTGAGED_MASTER_KEY="+testMasterKey), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := &syncBuffer{}
	cmd.Stdout = stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, cmd: cmd, lines: make(chan string, 1000), done: make(chan struct{}), log: stdout}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody is waiting; drop
			}
		}
		close(p.lines)
	}()
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	line := p.waitFor(`"msg":"listening"`)
	var rec struct{ Addr, Metrics string }
	if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Addr == "" {
		t.Fatalf("listening line %q: %v", line, err)
	}
	p.addr = "http://" + rec.Addr
	if rec.Metrics != "" {
		p.metrics = "http://" + rec.Metrics
	}
	return p
}

// waitFor returns the first log line containing s.
func (p *process) waitFor(s string) string {
	p.t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("mortgaged exited before logging %s", s)
			}
			if strings.Contains(line, s) {
				return line
			}
		case <-timeout:
			p.t.Fatalf("mortgaged did not log %s within a minute", s)
		}
	}
}

// signedRequest builds a request signed with key, as a bank's system would.
func signedRequest(method, rawURL, key string, body []byte, header map[string]string) (*http.Request, error) {
	c, err := client.New("", key)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req, c.Sign(req, body)
}

func post(url, key string, body []byte) (int, []byte, error) {
	req, err := signedRequest(http.MethodPost, url+"/v1/bundles", key, body, map[string]string{"Content-Type": "application/json"})
	if err != nil {
		return 0, nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

func (p *process) terminate() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Fatal("mortgaged did not stop within a minute of SIGTERM")
	}
}
