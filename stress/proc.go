package stress

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"time"
)

// clockTick is USER_HZ, the unit of the CPU times in /proc/<pid>/stat: 100 on every
// Linux architecture's user ABI (sysconf(_SC_CLK_TCK)).
const clockTick = 100

// procUsage is one reading of a process's resources.
type procUsage struct {
	CPU time.Duration // user + system time, all threads
	RSS uint64        // resident set size, bytes
}

// readProc reads /proc/<pid>/stat (utime, stime: fields 14 and 15) and
// /proc/<pid>/statm (resident pages: field 2); pid 0 means this process ("self").
func readProc(pid int) (procUsage, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return procUsage{}, err
	}
	u, s, err := parseStatCPU(stat)
	if err != nil {
		return procUsage{}, err
	}
	statm, err := os.ReadFile(dir + "/statm")
	if err != nil {
		return procUsage{}, err
	}
	f := bytes.Fields(statm)
	if len(f) < 2 {
		return procUsage{}, fmt.Errorf("stress: %s/statm: %d fields", dir, len(f))
	}
	pages, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return procUsage{}, fmt.Errorf("stress: %s/statm: %w", dir, err)
	}
	return procUsage{
		CPU: time.Duration(u+s) * time.Second / clockTick,
		RSS: pages * uint64(os.Getpagesize()),
	}, nil
}

// parseStatCPU returns utime and stime (clock ticks) from the text of /proc/<pid>/stat.
// The command name (field 2) is in parentheses and may hold spaces or parentheses, so
// the fields are counted from the last ')'.
func parseStatCPU(b []byte) (utime, stime uint64, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("stress: /proc stat: no command name")
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("stress: /proc stat: %d fields", len(f)+2)
	}
	if utime, err = strconv.ParseUint(string(f[11]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("stress: /proc stat utime: %w", err)
	}
	if stime, err = strconv.ParseUint(string(f[12]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("stress: /proc stat stime: %w", err)
	}
	return utime, stime, nil
}

// goRuntime reads the live heap (bytes of reachable plus not yet swept objects) and
// goroutine count through runtime/metrics, which does not stop the world.
type goRuntime struct{ s []metrics.Sample }

func newGoRuntime() *goRuntime {
	return &goRuntime{s: []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/sched/goroutines:goroutines"},
	}}
}

func (g *goRuntime) read() (heap uint64, goroutines int) {
	metrics.Read(g.s)
	if g.s[0].Value.Kind() == metrics.KindUint64 {
		heap = g.s[0].Value.Uint64()
	}
	if g.s[1].Value.Kind() == metrics.KindUint64 {
		goroutines = int(g.s[1].Value.Uint64())
	} else {
		goroutines = runtime.NumGoroutine()
	}
	return heap, goroutines
}

// readMachineBusy returns the machine's total busy CPU time (all CPUs: everything but
// idle and iowait) from the first line of /proc/stat.
func readMachineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseMachineBusy(b)
}

func parseMachineBusy(b []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return 0, fmt.Errorf("stress: /proc/stat: no cpu line")
	}
	var busy uint64
	// user nice system idle iowait irq softirq steal (guest time is already in user).
	for i, x := range f[1:min(len(f), 9)] {
		v, err := strconv.ParseUint(string(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stress: /proc/stat: %w", err)
		}
		if i != 3 && i != 4 {
			busy += v
		}
	}
	return time.Duration(busy) * time.Second / clockTick, nil
}
