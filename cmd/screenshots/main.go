// Command screenshots takes the staff console's screenshots in
// docs/screenshots from the demo: it builds mortgaged, starts
// `mortgaged serve --demo` on a fresh data folder (embedded PostgreSQL),
// signs in to /console/ as the demo supervisor in headless Chromium and
// captures, 1440 px wide and full page, the queue, the bundle at the desk
// whose mortgagor's name is a near match, and the dashboard of the past
// seven days.
//
//	go run ./cmd/screenshots [-out docs/screenshots] [-mortgaged BINARY] [-chromium /usr/bin/chromium]
//
// Run it from the module's root. It needs what serve --demo needs (the
// PostgreSQL server binaries) and Chromium with a CJK font (Debian:
// apt-get install chromium fonts-noto-cjk).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"
)

// width is the browser window's width; each page is captured at its full height.
const width = 1440

func main() {
	out := flag.String("out", "docs/screenshots", "folder the PNGs are written to")
	binary := flag.String("mortgaged", "", "mortgaged binary to run; empty builds ./cmd/mortgaged")
	chromium := flag.String("chromium", "/usr/bin/chromium", "Chromium or Chrome to drive")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *out, *binary, *chromium); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out, binary, chromium string) error {
	if _, err := os.Stat(chromium); err != nil {
		return fmt.Errorf("no Chromium: %w (apt-get install chromium fonts-noto-cjk)", err)
	}
	root, err := os.MkdirTemp("", "mortgaged-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	// Started as root, the embedded cluster runs as the postgres user, who
	// must pass through to the data folder.
	if err := os.Chmod(root, 0o755); err != nil {
		return err
	}
	if binary == "" {
		binary = filepath.Join(root, "mortgaged")
		build := exec.CommandContext(ctx, "go", "build", "-o", binary, "./cmd/mortgaged")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build mortgaged (run from the module's root): %w", err)
		}
	}
	data := filepath.Join(root, "data")
	srv, err := startDemo(binary, data)
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Fprintf(os.Stderr, "demo running at %s\n", srv.base)

	username, password, err := supervisor(filepath.Join(data, "demo", "staff.txt"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return capture(ctx, chromium, filepath.Join(root, "chromium"), srv.base, username, password, out)
}

// server is the running demo.
type server struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
	mu   sync.Mutex
	log  strings.Builder // stderr, shown if it fails
}

// startDemo runs serve --demo on an empty data folder with the embedded
// database and waits until it listens.
func startDemo(binary, data string) (*server, error) {
	cmd := exec.Command(binary, "serve", "--demo", "-data", data, "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL=",         // the embedded PostgreSQL under data
		"MORTGAGED_MASTER_KEY=", // generated in data/master.key
		"MORTGAGED_CONSOLE_SECURE_COOKIES=false",
	)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			s.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				listening <- rec.Addr
			}
		}
	}()
	go func() { cmd.Wait(); close(s.done) }()
	select {
	case addr := <-listening:
		s.base = "http://" + addr
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("mortgaged serve --demo exited:\n%s", s.stderr())
	case <-time.After(3 * time.Minute):
		s.stop()
		return nil, fmt.Errorf("mortgaged serve --demo did not listen within 3 minutes:\n%s", s.stderr())
	}
}

func (s *server) stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// stop asks the server to shut down, which stops its PostgreSQL too.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		fmt.Fprintln(os.Stderr, "screenshots: mortgaged did not stop within a minute; killing it")
		s.cmd.Process.Kill()
		<-s.done
	}
}

// supervisor reads the demo supervisor's account from staff.txt.
func supervisor(file string) (username, password string, err error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "", err
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Split(strings.TrimSpace(line), "\t")
		if !strings.HasPrefix(line, "#") && len(f) == 4 && f[1] == "supervisor" {
			return f[0], f[3], nil
		}
	}
	return "", "", fmt.Errorf("%s names no supervisor", file)
}

// capture signs in and writes queue.png, bundle.png and dashboard.png.
func capture(ctx context.Context, chromium, profile, base, username, password, out string) error {
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, 960),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelTimeout()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
	); err != nil {
		return fmt.Errorf("sign-in page: %w", err)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#signin"))); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#who"))); err != nil {
		return fmt.Errorf("signed in as %s: %w", username, err)
	}

	// The bundle whose mortgagor is written with traditional characters.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/console/queue?reason=name_near_match"),
		chromedp.WaitVisible(chromedp.CSS("#queue"))); err != nil {
		return fmt.Errorf("no near match at the desk: %w", err)
	}
	nearMatch, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#queue a.bundle-link').getAttribute('href')`))
	if err != nil {
		return err
	}

	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return err
	}
	today := time.Now().In(loc)
	week := "from=" + today.AddDate(0, 0, -6).Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly)
	var shots []struct {
		name string
		png  []byte
	}
	for _, shot := range []struct{ name, path, ready string }{
		{"queue", "/console/queue", "#queue"},
		{"bundle", nearMatch, "#decide"},
		{"dashboard", "/console/dashboard?" + week, "#partners svg"},
	} {
		// An ordinary window first, so the page's height is its own.
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 960), chromedp.Navigate(base+shot.path),
			chromedp.WaitVisible(chromedp.CSS(shot.ready))); err != nil {
			return fmt.Errorf("%s: %w", shot.name, err)
		}
		if shot.name == "bundle" {
			// Show the scanned identity card in the viewer: headless
			// Chromium has no PDF viewer for the first document.
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise(done => {
				const img = document.querySelector('img.doc'), f = document.querySelector('iframe.doc');
				if (!img || !f) return done(false);
				f.onload = () => done(true);
				f.src = img.closest('a').href;
			})`, chromedp.EvalAwaitPromise)); err != nil {
				return fmt.Errorf("bundle viewer: %w", err)
			}
		}
		// A window as tall as the page, so frames further down are painted
		// and the sticky decision panel stays at the top.
		height, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
		if err != nil {
			return err
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height), chromedp.Sleep(500*time.Millisecond)); err != nil {
			return err
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			return fmt.Errorf("%s: %w", shot.name, err)
		}
		shots = append(shots, struct {
			name string
			png  []byte
		}{shot.name, png})
	}
	for _, s := range shots { // all or nothing
		file := filepath.Join(out, s.name+".png")
		if err := os.WriteFile(file, s.png, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", file)
	}
	return nil
}
