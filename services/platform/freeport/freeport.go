// Package freeport picks TCP ports for processes a test or a tool starts.
//
// It picks from 20000-32767, below Linux's ephemeral range (32768-60999):
// a port taken from the ephemeral range with ":0" and released is often
// grabbed by an outgoing connection before the process meant to listen on
// it binds it, which busy tests on a small machine hit regularly.
//
// Test packages run as parallel processes, each starting many daprd, so a
// port is also reserved across processes: Pick holds an exclusive lock on
// a file named after the port until the process exits.
package freeport

import (
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

const (
	low  = 20000
	high = 32768
)

// held are the lock files of the ports this process reserved; they stay
// open (and locked) until it exits.
var (
	mu   sync.Mutex
	held = map[int]*os.File{}
)

// Pick returns a port nothing listens on and no other process has reserved.
func Pick() (int, error) {
	mu.Lock()
	defer mu.Unlock()
	dir := filepath.Join(os.TempDir(), "daprshop-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return 0, err
	}
	for range 500 {
		p := low + rand.IntN(high-low)
		if held[p] != nil {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(p)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			return 0, err
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close() // another process holds it
			continue
		}
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			f.Close()
			continue
		}
		ln.Close()
		held[p] = f
		return p, nil
	}
	return 0, errors.New("no free port found in 20000-32767")
}
