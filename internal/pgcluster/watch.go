package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"mortgaged/internal/db"
)

// WatchOptions configure Watch; zero fields take the defaults.
type WatchOptions struct {
	Every      time.Duration // how often the postmaster is looked at (1 s)
	MinBackoff time.Duration // the wait after a failed restart, doubling (1 s)
	MaxBackoff time.Duration // … up to this (30 s)
}

// Watch keeps the server running until ctx ends or Stop is called: when the
// postmaster has died (killed, crashed, out of memory) it starts it again on
// the same data directory and socket, so the application's pool reconnects
// by itself. A failed restart is retried after a capped exponential wait;
// each attempt is logged once.
func (c *Cluster) Watch(ctx context.Context, o WatchOptions) {
	if o.Every <= 0 {
		o.Every = time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	wait := o.Every
	backoff := db.Backoff{Min: o.MinBackoff, Max: o.MaxBackoff}
	attempt := 0
	var downSince time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = o.Every
		if c.isStopped() || c.postmasterAlive() {
			continue
		}
		if attempt == 0 {
			downSince = time.Now()
			c.log.Error("PostgreSQL server is not running; restarting it")
		}
		attempt++ // one log line per attempt: its outcome
		err := c.restart(ctx)
		if err == nil {
			c.log.Info("restarted PostgreSQL server", slog.Int("attempts", attempt),
				slog.Duration("down", time.Since(downSince).Round(time.Millisecond)))
			attempt = 0
			backoff.Reset()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		wait = backoff.Next()
		c.log.Error("PostgreSQL server did not restart", slog.Int("attempt", attempt), slog.Duration("next_in", wait), slog.Any("error", err))
	}
}

func (c *Cluster) isStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// restart starts the server again unless Stop came first.
func (c *Cluster) restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	if err := c.clearZombieLock(); err != nil {
		return err
	}
	out, err := c.pgctl(ctx, "start", "-w", "-t", "120", "-D", c.dataDir, "-l", c.logFile)
	if err != nil {
		return fmt.Errorf("pg_ctl start: %w: %s", err, strings.TrimSpace(out))
	}
	return nil
}

// lockFile is PGDATA/postmaster.pid: the postmaster's pid on line 1, its
// shared memory key and id on line 7.
func (c *Cluster) lockFile() ([]string, error) {
	b, err := os.ReadFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		return nil, err
	}
	return strings.Split(string(bytes.TrimSpace(b)), "\n"), nil
}

// postmasterAlive reports whether the postmaster named by the lock file
// still runs.
func (c *Cluster) postmasterAlive() bool {
	lines, err := c.lockFile()
	if err != nil || len(lines) == 0 {
		return false // no lock file: not running (a missing file is no proof of life)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 {
		return false
	}
	return processAlive(pid)
}

// processAlive: signal 0 reaches a zombie too, so a dead process nobody has
// reaped (our postmaster's parent is PID 1 after pg_ctl exits, and in a
// container PID 1 may never reap) is told apart by its state in /proc.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	// pid (comm) S …: the state follows the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return true
	}
	return stat[i+2] != 'Z' && stat[i+2] != 'X'
}

// clearZombieLock removes a lock file left by a postmaster that is dead but
// unreaped. PostgreSQL would take such a lock for a live server (signal 0
// succeeds) and refuse to start; so we make its own check for it: the
// postmaster is dead and no process (an old backend) is still attached to
// its shared memory. Then the lock and the unused segment go.
func (c *Cluster) clearZombieLock() error {
	lines, err := c.lockFile()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil {
		return fmt.Errorf("lock file: pid %q: %w", lines[0], err)
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) || processAlive(pid) {
		return nil // gone for good (PostgreSQL handles that), or alive (pg_ctl refuses)
	}
	shmid := -1
	if len(lines) >= 7 {
		if f := strings.Fields(lines[6]); len(f) == 2 {
			if id, err := strconv.Atoi(f[1]); err == nil {
				shmid = id
			}
		}
	}
	if shmid >= 0 {
		var desc unix.SysvShmDesc
		_, err := unix.SysvShmCtl(shmid, unix.IPC_STAT, &desc)
		switch {
		case err == nil && desc.Nattch > 0:
			return fmt.Errorf("the dead postmaster's shared memory (id %d) is still used by %d process(es); waiting for them to exit", shmid, desc.Nattch)
		case err == nil:
			_, _ = unix.SysvShmCtl(shmid, unix.IPC_RMID, nil)
		}
	}
	c.log.Warn("removing the lock files of a dead, unreaped postmaster", slog.Int("pid", pid))
	// The socket's lock file names the same pid, and would stop the new
	// postmaster the same way.
	sockLock := filepath.Join(c.sockDir, socketName()+".lock")
	if b, err := os.ReadFile(sockLock); err == nil {
		if first, _, _ := strings.Cut(string(b), "\n"); strings.TrimSpace(first) == strconv.Itoa(pid) {
			if err := os.Remove(sockLock); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	if err := os.Remove(filepath.Join(c.dataDir, "postmaster.pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
