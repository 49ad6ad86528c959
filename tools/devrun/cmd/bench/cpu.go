package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc/<pid>/stat's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuTimes reads the user+system CPU time of each named process.
func cpuTimes(pids map[string]int) map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The command name (field 2) may hold spaces; the rest follows its ')'.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) < 13 {
			continue
		}
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		out[name] = time.Duration(utime+stime) * clockTick
	}
	return out
}

// redisPID finds the machine's Redis server, which the run's components use.
func redisPID() (int, bool) {
	dirs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, d := range dirs {
		if b, err := os.ReadFile(d); err == nil && strings.TrimSpace(string(b)) == "redis-server" {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
			return pid, true
		}
	}
	return 0, false
}

// cpuShare is the CPU time one process spent per completed unit of work.
type cpuShare struct {
	process string
	perUnit time.Duration
}

// cpuPerUnit is each process's share between two readings, largest first.
func cpuPerUnit(before, after map[string]time.Duration, units int) []cpuShare {
	if units == 0 {
		return nil
	}
	var out []cpuShare
	for name, t := range after {
		out = append(out, cpuShare{name, (t - before[name]) / time.Duration(units)})
	}
	slices.SortFunc(out, func(a, b cpuShare) int { return cmp.Compare(b.perUnit, a.perUnit) })
	return out
}

func cpuTable(out io.Writer, shares []cpuShare) {
	var total time.Duration
	for _, s := range shares {
		total += s.perUnit
	}
	fmt.Fprintln(out, "| process | CPU per unit | share |")
	fmt.Fprintln(out, "|---|---:|---:|")
	for _, s := range shares {
		fmt.Fprintf(out, "| %s | %s | %.0f%% |\n", s.process, ms(s.perUnit), 100*float64(s.perUnit)/float64(max(total, 1)))
	}
	fmt.Fprintf(out, "| all | %s | |\n", ms(total))
}

// memory is a process's resident memory: RSS, and PSS (its fair share of
// pages shared with other processes, such as every daprd's binary).
type memory struct{ rss, pss int64 } // bytes

// memoryOf reads /proc/<pid>/smaps_rollup for each named process.
func memoryOf(pids map[string]int) map[string]memory {
	out := map[string]memory{}
	for name, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		var m memory
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "Rss:":
				m.rss = kb << 10
			case "Pss:":
				m.pss = kb << 10
			}
		}
		out[name] = m
	}
	return out
}

func memoryTable(out io.Writer, idle, loaded map[string]memory, loadedAs string) {
	names := make([]string, 0, len(idle))
	for n := range idle {
		names = append(names, n)
	}
	slices.Sort(names)
	mb := func(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }
	fmt.Fprintf(out, "| process | RSS idle | PSS idle | RSS %s | PSS %s |\n", loadedAs, loadedAs)
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|")
	var sum [4]int64
	for _, n := range names {
		i, l := idle[n], loaded[n]
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s |\n", n, mb(i.rss), mb(i.pss), mb(l.rss), mb(l.pss))
		sum[0], sum[1], sum[2], sum[3] = sum[0]+i.rss, sum[1]+i.pss, sum[2]+l.rss, sum[3]+l.pss
	}
	fmt.Fprintf(out, "| all | %s | %s | %s | %s |\n", mb(sum[0]), mb(sum[1]), mb(sum[2]), mb(sum[3]))
}
