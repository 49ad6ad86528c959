package e2e

import (
	"fmt"
	"sync"
	"testing"
)

// verdicts records what a long test found wrong and prints it again once
// everything else has been printed: a failing run dumps the system's logs
// below the failures, and CI keeps only the tail of the output.
type verdicts struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

// keepVerdicts must be called before anything else registers a cleanup,
// so that its summary is printed last.
func keepVerdicts(t *testing.T) *verdicts {
	v := &verdicts{TB: t}
	t.Cleanup(func() {
		v.mu.Lock()
		defer v.mu.Unlock()
		if len(v.msgs) == 0 {
			return
		}
		fmt.Printf("\n%s failed %d checks; the first ones:\n", t.Name(), len(v.msgs))
		for _, m := range v.msgs[:min(len(v.msgs), 6)] {
			if len(m) > 400 {
				m = m[:400] + "…"
			}
			fmt.Println("  " + m)
		}
	})
	return v
}

func (v *verdicts) record(msg string) {
	v.mu.Lock()
	v.msgs = append(v.msgs, msg)
	v.mu.Unlock()
}

func (v *verdicts) Errorf(format string, args ...any) {
	v.TB.Helper()
	v.record(fmt.Sprintf(format, args...))
	v.TB.Errorf(format, args...)
}

func (v *verdicts) Fatalf(format string, args ...any) {
	v.TB.Helper()
	v.record(fmt.Sprintf(format, args...))
	v.TB.Fatalf(format, args...)
}

func (v *verdicts) Fatal(args ...any) {
	v.TB.Helper()
	v.record(fmt.Sprint(args...))
	v.TB.Fatal(args...)
}
