// Package benchproc is what the benchmark commands (cmd/batchbench,
// cmd/bodybench, cmd/loadbench, cmd/pushbench) share: a private durable
// PostgreSQL cluster with migrated databases, a throwaway master key,
// partners with keys, a generated register, and `mortgaged serve` run as a
// child process, measured from outside: its address, its warnings, its
// memory.
package benchproc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is a running `mortgaged serve` on a loopback port.
type Server struct {
	URL  string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	done chan struct{}

	mu  sync.Mutex
	log strings.Builder // its warnings and errors, the first 64 KB
}

// Start runs bin serve on 127.0.0.1:0 with env added to this process's
// environment, and returns once it listens (or a minute has passed).
func Start(ctx context.Context, bin string, env []string) (*Server, error) {
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, `"msg":"listening"`) {
				var rec struct{ Addr string }
				if json.Unmarshal([]byte(line), &rec) == nil {
					addr <- rec.Addr
				}
			}
			if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) {
				s.mu.Lock()
				if s.log.Len() < 64<<10 {
					s.log.WriteString(line + "\n")
				}
				s.mu.Unlock()
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(s.done) }()
	select {
	case a := <-addr:
		s.URL = "http://" + a
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("mortgaged exited before listening: %s", s.Log())
	case <-time.After(time.Minute):
		s.Stop()
		return nil, errors.New("mortgaged did not listen within a minute")
	case <-ctx.Done():
		s.Stop()
		return nil, ctx.Err()
	}
}

// Log is what the server warned of or failed at so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Exited reports whether the process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Stop asks the server to shut down, and kills it after 30 s.
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Status reads a kB field of the server's /proc/PID/status (VmRSS,
// VmHWM), or -1.
func (s *Server) Status(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// Build makes the run's temp dir, named by pattern (as os.MkdirTemp), and
// compiles ./cmd/mortgaged into it (run from the module root). It returns
// the dir, for the run's other files, which the caller removes, and the
// binary's path.
func Build(ctx context.Context, pattern string) (dir, bin string, err error) {
	dir, err = os.MkdirTemp("", pattern)
	if err != nil {
		return "", "", err
	}
	bin = filepath.Join(dir, "mortgaged")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/mortgaged").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", "", fmt.Errorf("build mortgaged (run from the module root): %v\n%s", err, out)
	}
	return dir, bin, nil
}
