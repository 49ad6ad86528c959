// Package hostlock gives named locks held across every process on the
// machine (flock on a file under the temporary directory), for resources a
// test run must not share: a Redis database, the host's mDNS namespace.
// A lock dies with its holder, so a killed run never leaves one behind.
package hostlock

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Try takes the lock name if no one holds it. ok is false when another
// holder has it; release gives it back.
func Try(name string) (release func(), ok bool, err error) {
	dir := filepath.Join(os.TempDir(), "daprshop-locks")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, false, err
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		f.Close()
		return nil, false, nil
	}
	return func() { f.Close() }, true, nil // closing drops the lock
}

// Wait takes the lock name, waiting for its holder until ctx ends.
func Wait(ctx context.Context, name string) (release func(), err error) {
	for {
		release, ok, err := Try(name)
		if err != nil || ok {
			return release, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %q is held by another run: %w", name, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
