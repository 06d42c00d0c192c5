package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mortgaged/internal/testwait"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a log sink safe for the watchdog's goroutine.
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

// TestWatchRestartsKilledServer kills the postmaster with SIGKILL: the
// watchdog starts it again on the same socket, and the data is there.
func TestWatchRestartsKilledServer(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	c, err := Start(t.Context(), Options{Dir: dir, Fsync: true}) // as the server runs it: a commit survives the kill
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	var logs syncBuffer
	c.log = slog.New(slog.NewTextHandler(&logs, nil))
	db := open(t, c.URL("postgres"))
	if _, err := db.Exec(`CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() {
		c.Watch(ctx, WatchOptions{Every: 20 * time.Millisecond, MinBackoff: 20 * time.Millisecond})
		close(watched)
	}()
	defer func() { cancel(); <-watched }()

	lines, err := c.lockFile()
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(lines[0])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var n int
	testwait.For(t, func() error {
		if err := db.QueryRow(`SELECT n FROM kept`).Scan(&n); err != nil {
			return fmt.Errorf("the server is not back: %v\n%s", err, logs.String())
		}
		// Answered by the new postmaster, and the watchdog is done with
		// it: pg_ctl start -w returns (and the restart is logged) a
		// moment after the server first answers.
		if lines, _ := c.lockFile(); len(lines) == 0 || lines[0] == strconv.Itoa(pid) || !strings.Contains(logs.String(), "restarted PostgreSQL server") {
			return fmt.Errorf("answered, but the restart is not done: lock file %q\n%s", lines, logs.String())
		}
		return nil
	})
	if n != 42 {
		t.Errorf("row after restart: %d, want 42", n)
	}
	if !strings.Contains(logs.String(), "PostgreSQL server is not running; restarting it") || !strings.Contains(logs.String(), "restarted PostgreSQL server") {
		t.Errorf("the restart was not logged:\n%s", logs.String())
	}
	if c.SocketDir() == "" || !strings.Contains(c.URL("x"), c.SocketDir()) {
		t.Errorf("socket moved")
	}
}

// TestProcessAliveZombie: a dead process nobody has reaped is not alive,
// though signal 0 still reaches it.
func TestProcessAliveZombie(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	testwait.For(t, func() error {
		if processAlive(cmd.Process.Pid) {
			return errors.New("an exited, unreaped child still counts as alive")
		}
		return nil
	})
	if err := syscall.Kill(cmd.Process.Pid, 0); err != nil {
		t.Errorf("signal 0 to the zombie: %v (the test needs it unreaped)", err)
	}
	if !processAlive(syscall.Getpid()) {
		t.Error("this process is not alive")
	}
}
