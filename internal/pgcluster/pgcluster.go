// Package pgcluster runs a private PostgreSQL cluster that lives in one
// directory: the server's embedded default database and the test harness
// (internal/pgtest) both use it.
//
// Layout of a cluster directory Dir:
//
//	Dir/data          PGDATA (created by initdb on first use)
//	Dir/run           unix socket directory (see socketDir for the fallback)
//	Dir/postgres.log  server log (pg_ctl -l)
//
// The server listens on a unix socket only (listen_addresses is empty), with
// trust authentication; the socket directory is mode 0700 so only the user
// running the server (and root) can connect.
//
// initdb and postgres refuse to run as root. When the calling process is
// root, they run as the "postgres" OS user and the cluster directory is
// chowned to that user, which must be able to traverse every parent
// directory of Dir.
package pgcluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/lib/pq" // used to wait until a reused server accepts connections
)

// ErrNoBinaries is returned when initdb, pg_ctl and postgres cannot be found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or in /usr/lib/postgresql/*/bin: install them (apt-get install postgresql on Debian/Ubuntu) or set DATABASE_URL to use an existing PostgreSQL server")

// Port only names the socket file (.s.PGSQL.5432): the server listens on no
// TCP port.
const Port = 5432

// maxSocketPath is the longest unix socket path the kernel accepts
// (sizeof(sockaddr_un.sun_path) is 108 on Linux, including the NUL).
const maxSocketPath = 107

// serverUser is the OS user that runs initdb and postgres when we are root.
const serverUser = "postgres"

// confFile is written into PGDATA on every start and included from
// postgresql.conf; it holds the settings derived from Options.
const confFile = "pgcluster.conf"

// Options configures Start.
type Options struct {
	Dir       string            // cluster lives in Dir (PGDATA = Dir/data, socket dir = Dir/run)
	Fsync     bool              // false for tests (speed), true for the real server and benchmarks
	Logger    *slog.Logger      // may be nil
	ExtraConf map[string]string // extra postgresql.conf settings, e.g. max_connections
}

// Cluster is a running PostgreSQL server owned by one cluster directory.
type Cluster struct {
	dir     string
	dataDir string
	sockDir string
	logFile string
	binDir  string
	runAs   *runAs // nil when we are not root
	log     *slog.Logger

	reused bool // Start found the server already running

	mu      sync.Mutex
	stopped bool
}

// runAs is the identity initdb, pg_ctl and postgres run under when we are root.
type runAs struct {
	name     string
	uid, gid uint32
}

// FindBinaries returns the directory holding initdb, pg_ctl and postgres. It
// looks on PATH first (following symlinks: pg_ctl needs postgres next to its
// real location), then in /usr/lib/postgresql/*/bin, highest version first.
// It returns ErrNoBinaries when none is found.
func FindBinaries() (binDir string, err error) {
	return findBinaries(os.Getenv("PATH"), "/usr/lib/postgresql/*/bin")
}

// findBinaries is FindBinaries with the search path injectable: pathList is
// a PATH-style list, versionGlob a glob whose matches' parent directory names
// are versions (".../15/bin").
func findBinaries(pathList, versionGlob string) (string, error) {
	for _, d := range filepath.SplitList(pathList) {
		if d == "" {
			continue
		}
		if bin, ok := binDirFrom(d); ok {
			return bin, nil
		}
	}
	if versionGlob != "" {
		matches, _ := filepath.Glob(versionGlob)
		sort.SliceStable(matches, func(i, j int) bool {
			return versionLess(filepath.Base(filepath.Dir(matches[j])), filepath.Base(filepath.Dir(matches[i])))
		})
		for _, d := range matches {
			if bin, ok := binDirFrom(d); ok {
				return bin, nil
			}
		}
	}
	return "", ErrNoBinaries
}

// binDirFrom reports the real directory of d/pg_ctl if it also holds initdb
// and postgres.
func binDirFrom(d string) (string, bool) {
	pgctl := filepath.Join(d, "pg_ctl")
	if !isExecutable(pgctl) || !isExecutable(filepath.Join(d, "initdb")) {
		return "", false
	}
	real, err := filepath.EvalSymlinks(pgctl)
	if err != nil {
		return "", false
	}
	bin, err := filepath.Abs(filepath.Dir(real))
	if err != nil {
		return "", false
	}
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if !isExecutable(filepath.Join(bin, name)) {
			return "", false
		}
	}
	return bin, true
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// versionLess compares dotted numeric versions ("9.6" < "15"); a
// non-numeric part compares as a string.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		ai, aerr := strconv.Atoi(as[i])
		bi, berr := strconv.Atoi(bs[i])
		switch {
		case aerr == nil && berr == nil:
			if ai != bi {
				return ai < bi
			}
		case as[i] != bs[i]:
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}

// Start initialises the cluster in o.Dir on first use and starts it, or
// reuses a server already running on that data directory (for example one
// left behind when our process was killed).
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.Dir == "" {
		return nil, errors.New("pgcluster: Options.Dir is empty")
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	c := &Cluster{
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		logFile: filepath.Join(dir, "postgres.log"),
		binDir:  bin,
		log:     o.Logger,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("component", "pgcluster", "dir", dir)

	if os.Geteuid() == 0 {
		u, err := user.Lookup(serverUser)
		if err != nil {
			return nil, fmt.Errorf("pgcluster: running as root, so initdb and postgres must run as the %q OS user, but looking it up failed: %w", serverUser, err)
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("pgcluster: user %q has non-numeric uid/gid %q/%q", serverUser, u.Uid, u.Gid)
		}
		c.runAs = &runAs{name: serverUser, uid: uint32(uid), gid: uint32(gid)}
	}

	if err := c.prepareDirs(); err != nil {
		return nil, err
	}

	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		if err := c.initdb(ctx, o.Fsync); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}

	conf := renderConf(c.settings(o))
	running, err := c.running(ctx)
	if err != nil {
		return nil, err
	}
	if running {
		changed, err := c.writeConf(conf)
		if err != nil {
			return nil, err
		}
		c.reused = true
		c.log.Info("reusing running PostgreSQL server")
		if changed {
			// Settings such as fsync and synchronous_commit apply on
			// reload; others (shared_buffers, max_connections) only on
			// the next start.
			c.log.Warn("cluster settings changed while the server was running; reloading (settings that need a restart apply after Stop and Start)")
			if out, err := c.pgctl(ctx, "reload", "-D", c.dataDir); err != nil {
				return nil, fmt.Errorf("pgcluster: pg_ctl reload: %w: %s", err, out)
			}
		}
		if err := c.waitReady(ctx); err != nil {
			return nil, err
		}
		return c, nil
	}
	if _, err := c.writeConf(conf); err != nil {
		return nil, err
	}
	t0 := time.Now()
	out, err := c.pgctl(ctx, "start", "-w", "-t", "120", "-D", c.dataDir, "-l", c.logFile)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: pg_ctl start: %w: %s%s", err, strings.TrimSpace(out), c.logTail())
	}
	c.log.Info("started PostgreSQL server", "took", time.Since(t0).Round(time.Millisecond))
	return c, nil
}

// socketDir returns the unix socket directory for a cluster in dir: dir/run,
// unless the socket path dir/run/.s.PGSQL.5432 would exceed the kernel's
// limit of maxSocketPath bytes. Then it is a short directory under
// os.TempDir() named from a hash of dir, so the same cluster directory
// always gets the same socket directory.
func socketDir(dir string) string {
	d := filepath.Join(dir, "run")
	if len(filepath.Join(d, socketName())) <= maxSocketPath {
		return d
	}
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(os.TempDir(), "pgcluster-"+hex.EncodeToString(sum[:8]))
}

func socketName() string { return ".s.PGSQL." + strconv.Itoa(Port) }

// prepareDirs creates Dir and the socket directory, hands them to the server
// user and checks that user can reach them.
func (c *Cluster) prepareDirs() error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.own(c.dir); err != nil {
		return err
	}
	if err := c.checkTraversable(c.dir); err != nil {
		return err
	}

	c.sockDir = socketDir(c.dir)
	if len(filepath.Join(c.sockDir, socketName())) > maxSocketPath {
		return fmt.Errorf("pgcluster: unix socket path %s is longer than %d bytes even in the temp directory; use a shorter cluster directory or TMPDIR", filepath.Join(c.sockDir, socketName()), maxSocketPath)
	}
	if err := os.Mkdir(c.sockDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("pgcluster: %w", err)
	}
	st, err := os.Lstat(c.sockDir)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("pgcluster: socket directory %s is not a directory", c.sockDir)
	}
	if c.sockDir != filepath.Join(c.dir, "run") {
		// A predictable name in a shared temp directory: refuse one that
		// somebody else created.
		sys, ok := st.Sys().(*syscall.Stat_t)
		if ok && sys.Uid != c.serverUID() && sys.Uid != uint32(os.Geteuid()) {
			return fmt.Errorf("pgcluster: socket directory %s is owned by uid %d, not by us; remove it", c.sockDir, sys.Uid)
		}
		if err := c.checkTraversable(c.sockDir); err != nil {
			return err
		}
	}
	if err := os.Chmod(c.sockDir, 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return c.own(c.sockDir)
}

func (c *Cluster) serverUID() uint32 {
	if c.runAs != nil {
		return c.runAs.uid
	}
	return uint32(os.Geteuid())
}

// own chowns p to the server user when we are root.
func (c *Cluster) own(p string) error {
	if c.runAs == nil {
		return nil
	}
	if err := os.Lchown(p, int(c.runAs.uid), int(c.runAs.gid)); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

// checkTraversable checks that the server user can search every parent
// directory of dir (dir itself is owned by that user). It looks only at the
// permission bits, not at ACLs.
func (c *Cluster) checkTraversable(dir string) error {
	if c.runAs == nil {
		return nil
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	for p := filepath.Dir(real); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		perm := st.Mode().Perm()
		var bit fs.FileMode = 0o001
		switch {
		case sys.Uid == c.runAs.uid:
			bit = 0o100
		case sys.Gid == c.runAs.gid:
			bit = 0o010
		}
		if perm&bit == 0 {
			return fmt.Errorf("pgcluster: the %q user (uid %d) cannot traverse %s (mode %v, owner %d:%d), a parent of cluster directory %s; put the cluster elsewhere or run: chmod o+x %s",
				c.runAs.name, c.runAs.uid, p, perm, sys.Uid, sys.Gid, dir, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// initdb creates PGDATA. It runs into a scratch directory that is renamed
// into place on success, so a crash half-way leaves no half-made cluster.
func (c *Cluster) initdb(ctx context.Context, fsync bool) error {
	scratch := c.dataDir + ".init"
	if err := os.RemoveAll(scratch); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	args := []string{"-D", scratch, "-E", "UTF8", "--locale=C", "--auth=trust", "-U", "postgres"}
	if !fsync {
		args = append(args, "--no-sync")
	}
	t0 := time.Now()
	cmd := c.command(ctx, "initdb", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgcluster: initdb: %w: %s", err, strings.TrimSpace(string(out)))
	}
	f, err := os.OpenFile(filepath.Join(scratch, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# Settings managed by mortgaged/internal/pgcluster (rewritten on every start).\ninclude_if_exists = '%s'\n", confFile)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := os.Rename(scratch, c.dataDir); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	c.log.Info("initialised PostgreSQL cluster", "took", time.Since(t0).Round(time.Millisecond))
	return nil
}

// settings returns the postgresql.conf settings for o.
func (c *Cluster) settings(o Options) map[string]string {
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	s := map[string]string{
		"listen_addresses":        "",
		"port":                    strconv.Itoa(Port),
		"unix_socket_directories": c.sockDir,
		"unix_socket_permissions": "0700",
		"fsync":                   onOff(o.Fsync),
		"synchronous_commit":      onOff(o.Fsync),
		"full_page_writes":        onOff(o.Fsync),
		"max_connections":         "200",
		"shared_buffers":          "128MB",
	}
	for k, v := range o.ExtraConf {
		s[k] = v
	}
	return s
}

// renderConf formats settings as postgresql.conf lines, sorted by name.
func renderConf(s map[string]string) string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by mortgaged/internal/pgcluster on every start; edits are lost.\n")
	for _, k := range keys {
		v := s[k]
		if k == "unix_socket_directories" && strings.ContainsAny(v, `, "`) {
			// A list setting: quote the one element.
			v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		}
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(v, "'", "''"))
	}
	return b.String()
}

// writeConf writes the managed settings file and reports whether it changed.
func (c *Cluster) writeConf(conf string) (bool, error) {
	p := filepath.Join(c.dataDir, confFile)
	old, err := os.ReadFile(p)
	if err == nil && string(old) == conf {
		return false, nil
	}
	if err := os.WriteFile(p, []byte(conf), 0o600); err != nil {
		return false, fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.own(p); err != nil {
		return false, err
	}
	return true, nil
}

// running reports whether a postmaster is running on the data directory.
func (c *Cluster) running(ctx context.Context) (bool, error) {
	out, err := c.pgctl(ctx, "status", "-D", c.dataDir)
	if err == nil {
		return true, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 3 { // 3: no server running
		return false, nil
	}
	return false, fmt.Errorf("pgcluster: pg_ctl status: %w: %s", err, strings.TrimSpace(out))
}

// waitReady waits until a reused server accepts connections (it may still
// be starting up or recovering).
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	defer db.Close()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: running server on %s does not accept connections: %w", c.dataDir, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pgctl runs pg_ctl and returns its combined output.
func (c *Cluster) pgctl(ctx context.Context, args ...string) (string, error) {
	cmd := c.command(ctx, "pg_ctl", args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// command prepares one of the PostgreSQL programs, run as the server user
// when we are root, with the PG* environment variables removed so they
// cannot redirect it.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	cmd.Dir = c.dir
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "LC_ALL=C")
	// Own process group: a Ctrl-C aimed at us does not hit pg_ctl halfway.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if c.runAs != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: c.runAs.uid, Gid: c.runAs.gid}
	}
	return cmd
}

// logTail returns the end of the server log, for error messages.
func (c *Cluster) logTail() string {
	f, err := os.Open(c.logFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 2000
	if st, err := f.Stat(); err == nil && st.Size() > max {
		f.Seek(st.Size()-max, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	if len(b) == 0 {
		return ""
	}
	return "\nend of " + c.logFile + ":\n" + string(b)
}

// URL returns a lib/pq connection URL for database dbname over the unix
// socket, e.g. postgres://postgres@/app?host=/dir/run&port=5432&sslmode=disable.
// The port is explicit so a PGPORT in the environment cannot change the
// socket file name.
func (c *Cluster) URL(dbname string) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.User("postgres"),
		Path:   "/" + dbname,
	}
	q := "host=" + strings.ReplaceAll(url.QueryEscape(c.sockDir), "%2F", "/") +
		"&port=" + strconv.Itoa(Port) + "&sslmode=disable"
	return u.String() + "?" + q
}

// Reused reports whether Start found the server already running (another
// process owns it, or ours was killed); a command that only borrowed the
// server should leave it running.
func (c *Cluster) Reused() bool { return c.reused }

// Dir returns the cluster directory.
func (c *Cluster) Dir() string { return c.dir }

// DataDir returns PGDATA.
func (c *Cluster) DataDir() string { return c.dataDir }

// SocketDir returns the unix socket directory.
func (c *Cluster) SocketDir() string { return c.sockDir }

// LogFile returns the server log file.
func (c *Cluster) LogFile() string { return c.logFile }

// BinDir returns the directory of the PostgreSQL binaries in use.
func (c *Cluster) BinDir() string { return c.binDir }

// StartCommand returns a shell command that starts this cluster again by
// hand (as the server user when we are root).
func (c *Cluster) StartCommand() string {
	return c.shellCommand("pg_ctl", "start", "-w", "-D", c.dataDir, "-l", c.logFile)
}

// StopCommand returns a shell command that stops this cluster by hand.
func (c *Cluster) StopCommand() string {
	return c.shellCommand("pg_ctl", "stop", "-m", "fast", "-w", "-D", c.dataDir)
}

func (c *Cluster) shellCommand(name string, args ...string) string {
	words := append([]string{filepath.Join(c.binDir, name)}, args...)
	if c.runAs != nil {
		words = append([]string{"runuser", "-u", c.runAs.name, "--"}, words...)
	}
	for i, w := range words {
		words[i] = shellQuote(w)
	}
	return strings.Join(words, " ")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./=:@%+,-]+$`)

func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Stop shuts the server down (pg_ctl stop -m fast -w). It is safe to call
// more than once, and succeeds if the server is already down.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	running, err := c.running(ctx)
	if err != nil {
		return err
	}
	if running {
		if out, err := c.pgctl(ctx, "stop", "-m", "fast", "-w", "-D", c.dataDir); err != nil {
			return fmt.Errorf("pgcluster: pg_ctl stop: %w: %s", err, strings.TrimSpace(out))
		}
		c.log.Info("stopped PostgreSQL server")
	}
	c.stopped = true
	if c.sockDir != filepath.Join(c.dir, "run") {
		os.Remove(c.sockDir) // the temp-dir fallback; fails harmlessly if not empty
	}
	return nil
}
