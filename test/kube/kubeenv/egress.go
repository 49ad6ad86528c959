package kubeenv

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// egressProxy is the API server's way into "the cluster". There is no pod
// network here, so a webhook behind a Service (its ClusterIP resolved by the
// API server) would be unreachable. kube-apiserver's egress selector sends
// all "cluster" traffic (webhooks, aggregated APIs) as HTTP CONNECT through a
// Unix socket (the Konnectivity protocol without Konnectivity); this proxy
// maps the ClusterIP:port asked for to a loopback address of ours. TLS stays
// end to end: the API server still checks the webhook's certificate against
// the caBundle and the name <service>.<namespace>.svc.
type egressProxy struct {
	ln     net.Listener
	logf   func(string, ...any)
	mu     sync.Mutex
	routes map[string]string // host:port asked for -> loopback host:port
	wg     sync.WaitGroup
}

func newEgressProxy(socket string, logf func(string, ...any)) (*egressProxy, error) {
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return nil, err
	}
	p := &egressProxy{ln: ln, logf: logf, routes: map[string]string{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *egressProxy) route(from, to string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.routes[from] = to
}

func (p *egressProxy) close() {
	p.ln.Close()
	p.wg.Wait()
}

func (p *egressProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *egressProxy) handle(c net.Conn) {
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if req.Method != http.MethodConnect {
		fmt.Fprintf(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
		return
	}
	p.mu.Lock()
	to, ok := p.routes[req.Host]
	p.mu.Unlock()
	if !ok {
		p.logf("kubeenv: egress: no route to %s", req.Host)
		fmt.Fprintf(c, "HTTP/1.1 502 Bad Gateway\r\n\r\nno route to %s in the test's egress proxy\n", req.Host)
		return
	}
	up, err := net.DialTimeout("tcp", to, 5*time.Second)
	if err != nil {
		p.logf("kubeenv: egress: %s -> %s: %v", req.Host, to, err)
		fmt.Fprintf(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n%v\n", err)
		return
	}
	defer up.Close()
	if _, err := fmt.Fprintf(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, br); closeWrite(up); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); closeWrite(c); done <- struct{}{} }()
	<-done
	<-done
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}
