package e2e

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// faultProxy stands between a sidecar and a real server (Redis) and plays
// the faults a network or a stalled server causes: pass forwards bytes both
// ways, stall holds every byte (a server that stopped answering), refuse
// drops every connection at once and any new one.
type faultProxy struct {
	ln     net.Listener
	target string
	mode   atomic.Value // "pass", "stall", "refuse"

	mu    sync.Mutex
	conns map[net.Conn]bool
}

func startFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.mode.Store("pass")
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.dropAll() })
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

func (p *faultProxy) set(mode string) {
	p.mode.Store(mode)
	if mode == "refuse" {
		p.dropAll()
	}
}

func (p *faultProxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *faultProxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.conns[c] = true
	}
}

func (p *faultProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.mode.Load() == "refuse" {
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.track(client, server)
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

// pipe copies src to dst; while stalled it reads (so the client's writes
// succeed, as with a server that is up but frozen) and forwards nothing.
func (p *faultProxy) pipe(src, dst net.Conn) {
	defer src.Close()
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && p.mode.Load() == "pass" {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
