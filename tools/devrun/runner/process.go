package runner

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// console prints the processes' lines, each prefixed with its process name,
// and writes every line, unfiltered, to .run/logs/<name>.log.
type console struct {
	mu      sync.Mutex
	out     io.Writer
	color   bool
	width   int
	logDir  string
	verbose bool
}

var palette = []string{"36", "33", "35", "32", "34", "31", "96", "93", "95", "92"}

func (c *console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.out, format, args...)
}

func (c *console) line(name, color, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	prefix := fmt.Sprintf("%-*s |", c.width, name)
	if c.color {
		prefix = "\x1b[" + color + "m" + prefix + "\x1b[0m"
	}
	fmt.Fprintln(c.out, prefix, text)
}

// Buffer collects a run's output (Options.Out) safely: processes write to
// it from many goroutines. Tests keep it to print when they fail.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// process is one child: an app, a daprd, placement or scheduler.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, valid once done is closed
	tail *tail
	log  *os.File
	// stopping is set before we signal the process, so its exit is not
	// reported as a crash.
	mu       sync.Mutex
	stopping bool
}

// show decides which lines reach the console; the log file gets them all.
type show func(line string) bool

func showAll(string) bool { return true }

// daprdNotable keeps the console readable: daprd logs a lot at info level,
// and a few warnings appear on every local start and say nothing new (the log
// files under .run/logs keep every line).
func daprdNotable(line string) bool {
	for _, known := range expectedWarnings {
		if strings.Contains(line, known) {
			return false
		}
	}
	return strings.Contains(line, "level=warn") || strings.Contains(line, "level=error") ||
		strings.Contains(line, "level=fatal") || strings.Contains(line, "panic")
}

var expectedWarnings = []string{
	"mTLS is disabled",                      // no sentry locally, by design
	"Graceful shutdown timeout is infinite", // placement/scheduler defaults
	"A non-YAML resiliency file profiles",   // components/profiles/ is a folder of swaps
	"Actor runtime disabled",                // apps with no actors
	"Error receiving from stream",           // placement streams closing during a stop
}

func (c *console) start(name, color, dir, bin string, args, env []string, filter show) (*process, error) {
	if c.verbose {
		filter = showAll
	}
	logFile, err := os.Create(filepath.Join(c.logDir, name+".log"))
	if err != nil {
		return nil, err
	}
	p := &process{name: name, done: make(chan struct{}), tail: &tail{max: 30}, log: logFile}
	w := &lineWriter{emit: func(text string) {
		fmt.Fprintln(logFile, text)
		p.tail.add(text)
		if filter(text) {
			c.line(name, color, text)
		}
	}}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = w, w
	// Own process group, so a stop reaches the children of `go run`-style
	// commands too; Pdeathsig, so nothing outlives a runner killed with -9.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	p.cmd = cmd
	go func() {
		p.err = cmd.Wait()
		w.flush()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) isStopping() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopping
}

// stop sends SIGTERM to the process group and SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	if p.exited() {
		return
	}
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
	}
	// Anything the process left in its group goes too.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
}

// lineWriter turns a byte stream into lines.
type lineWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	emit func(string)
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		line := string(w.buf.Next(i + 1))
		w.emit(strings.TrimRight(line, "\r\n"))
	}
	return len(b), nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() > 0 {
		w.emit(w.buf.String())
		w.buf.Reset()
	}
}

// tail keeps a process's last lines, and its last error lines apart (a
// dying daprd or scheduler often logs its reason well before its last
// lines), to explain why it died.
type tail struct {
	mu     sync.Mutex
	lines  []string
	errors []string
	max    int
}

func (t *tail) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = keepLast(append(t.lines, s), t.max)
	l := strings.ToLower(s)
	if strings.Contains(l, "level=error") || strings.Contains(l, "level=fatal") || strings.Contains(l, `"level":"error"`) ||
		strings.Contains(l, `"level":"fatal"`) || strings.Contains(l, "panic:") {
		t.errors = keepLast(append(t.errors, s), 5)
	}
}

func keepLast(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := strings.Join(t.lines, "\n")
	if len(t.errors) > 0 {
		out = "errors:\n" + strings.Join(t.errors, "\n") + "\nlast lines:\n" + out
	}
	return out
}
