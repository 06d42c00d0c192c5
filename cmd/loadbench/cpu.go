package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Where the CPU went during a phase, in cores (CPU-seconds per second). On
// a 2-core machine shared by client, server and PostgreSQL this, more than
// any profile, says what limits throughput; "other" says whether the
// machine was quiet, without which no number here means much.

// userHZ is the unit of /proc/stat and /proc/<pid>/stat times; the kernel
// fixes it at 100 for these interfaces whatever its internal tick.
const userHZ = 100

// cpuSnapshot is cumulative CPU time in seconds at one moment.
type cpuSnapshot struct {
	at       time.Time
	busy     float64 // all CPUs, user + nice + system, from /proc/stat
	irq      float64 // irq + softirq: I/O completions and network, charged to no process
	steal    float64 // time the hypervisor gave other guests
	idle     float64 // idle + iowait
	self     float64 // this process: HTTP clients and the server
	postgres float64 // our cluster: postmaster, live backends, and reaped ones
	procs    map[int]procTimes
	pm       int // the postmaster's pid
}

// cpuUse is the difference of two snapshots, in cores.
type cpuUse struct {
	ours, postgres, pgbench, other, irq, steal, idle float64
	others                                           string // the largest other consumers, when not quiet
}

func takeCPU(postmasterPID int) cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), self: selfCPU(), procs: allProcs(), pm: postmasterPID}
	s.busy, s.irq, s.steal, s.idle = machineCPU()
	s.postgres = clusterCPU(s.procs, postmasterPID)
	return s
}

// since returns the use from a to b; pgbench is the CPU-seconds of a child
// process (pgbench) in between, which /proc no longer shows once it exited.
func since(a, b cpuSnapshot, pgbench float64) cpuUse {
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 {
		return cpuUse{}
	}
	u := cpuUse{
		ours:     (b.self - a.self) / secs,
		postgres: (b.postgres - a.postgres) / secs,
		pgbench:  pgbench / secs,
		irq:      (b.irq - a.irq) / secs,
		steal:    (b.steal - a.steal) / secs,
		idle:     (b.idle - a.idle) / secs,
	}
	u.other = max(0, (b.busy-a.busy)/secs-u.ours-u.postgres-u.pgbench)
	if !u.quiet() {
		u.others = topOthers(a, b, secs)
	}
	return u
}

// topOthers names the three processes, not ours, that used the most CPU
// between a and b (processes that came and went in between are missed).
func topOthers(a, b cpuSnapshot, secs float64) string {
	self := os.Getpid()
	type use struct {
		name  string
		cores float64
	}
	var us []use
	for pid, t := range b.procs {
		if pid == self || t.ppid == self || pid == b.pm || t.ppid == b.pm {
			continue
		}
		d := t.utime + t.stime - (a.procs[pid].utime + a.procs[pid].stime)
		if d > 0 {
			us = append(us, use{fmt.Sprintf("%s[%d]", t.comm, pid), d / userHZ / secs})
		}
	}
	slices.SortFunc(us, func(x, y use) int { return cmp.Compare(y.cores, x.cores) })
	var parts []string
	for _, u := range us[:min(3, len(us))] {
		parts = append(parts, fmt.Sprintf("%s %.2f", u.name, u.cores))
	}
	return strings.Join(parts, ", ")
}

func (u cpuUse) String() string {
	s := fmt.Sprintf("Go process (clients + server) %.2f, PostgreSQL %.2f", u.ours, u.postgres)
	if u.pgbench > 0 {
		s += fmt.Sprintf(", pgbench %.2f", u.pgbench)
	}
	s += fmt.Sprintf(", other processes %.2f, irq %.2f, steal %.2f, idle %.2f", u.other, u.irq, u.steal, u.idle)
	if u.others != "" {
		s += " (largest others: " + u.others + ")"
	}
	return s
}

// quiet reports whether other processes and other guests left the machine
// to us. "Other" includes kernel threads flushing our own writes, so a
// little of it is ours: a tenth of a core is noise.
func (u cpuUse) quiet() bool { return u.other < 0.1 && u.steal < 0.1 }

func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// machineCPU reads the first line of /proc/stat, in seconds.
func machineCPU() (busy, irq, steal, idle float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal guest guest_nice
	if len(f) < 9 || f[0] != "cpu" {
		return
	}
	v := make([]float64, 9)
	for i := 1; i < 9; i++ {
		v[i], _ = strconv.ParseFloat(f[i], 64)
		v[i] /= userHZ
	}
	// guest time is already inside user.
	return v[1] + v[2] + v[3], v[6] + v[7], v[8], v[4] + v[5]
}

// clusterCPU is the postmaster's own time plus its reaped children's
// (cutime, cstime), plus the time of its live children. A backend that
// exits moves from the second sum to the first, so the total only grows.
func clusterCPU(procs map[int]procTimes, postmaster int) float64 {
	if postmaster <= 0 {
		return 0
	}
	total := 0.0
	for pid, t := range procs {
		switch {
		case pid == postmaster:
			total += t.utime + t.stime + t.cutime + t.cstime
		case t.ppid == postmaster:
			total += t.utime + t.stime
		}
	}
	return total / userHZ
}

// allProcs reads the CPU times of every process.
func allProcs() map[int]procTimes {
	procs := map[int]procTimes{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if t, ok := procStat(pid); ok {
			procs[pid] = t
		}
	}
	return procs
}

type procTimes struct {
	comm                         string
	ppid                         int
	utime, stime, cutime, cstime float64
}

// procStat parses /proc/<pid>/stat; the command name may contain spaces
// and parentheses, so fields are counted from the last ')'.
func procStat(pid int) (procTimes, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procTimes{}, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procTimes{}, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return procTimes{}, false
	}
	t := procTimes{comm: s[strings.IndexByte(s, '(')+1 : i]}
	t.ppid, _ = strconv.Atoi(f[1])
	t.utime, _ = strconv.ParseFloat(f[11], 64)
	t.stime, _ = strconv.ParseFloat(f[12], 64)
	t.cutime, _ = strconv.ParseFloat(f[13], 64)
	t.cstime, _ = strconv.ParseFloat(f[14], 64)
	return t, true
}

// children lists the pids whose parent is pid.
func children(procs map[int]procTimes, pid int) []int {
	var out []int
	for p, t := range procs {
		if t.ppid == pid {
			out = append(out, p)
		}
	}
	return out
}

// waitChildren waits, up to limit, until the postmaster has no more
// children than n: pgbench's backends exit after pgbench does, and their
// CPU time reaches the postmaster's cutime only once it has reaped them.
func waitChildren(postmaster, n int, limit time.Duration) {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if len(children(allProcs(), postmaster)) <= n {
			return
		}
	}
}

// postmasterPID reads the first line of PGDATA/postmaster.pid.
func postmasterPID(dataDir string) int {
	pid, _ := strconv.Atoi(firstLine(filepath.Join(dataDir, "postmaster.pid")))
	return pid
}

// loadAverage is /proc/loadavg's one-minute figure, printed at the start
// so a busy machine is visible before any number is.
func loadAverage() string {
	f := strings.Fields(firstLine("/proc/loadavg"))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
