// Package freeport picks TCP ports for processes a test or a tool starts.
//
// It picks from 20000-32767, below Linux's ephemeral range (32768-60999):
// a port taken from the ephemeral range with ":0" and released is often
// grabbed by an outgoing connection before the process meant to listen on
// it binds it, which busy tests on a small machine hit regularly.
package freeport

import (
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
)

const (
	low  = 20000
	high = 32768
)

// handedOut keeps one process from handing the same port out twice.
var (
	mu        sync.Mutex
	handedOut = map[int]bool{}
)

// Pick returns a port nothing listens on, on any interface, that this
// process has not handed out before.
func Pick() (int, error) {
	mu.Lock()
	defer mu.Unlock()
	for range 200 {
		p := low + rand.IntN(high-low)
		if handedOut[p] {
			continue
		}
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		ln.Close()
		handedOut[p] = true
		return p, nil
	}
	return 0, errors.New("no free port found in 20000-32767")
}
