package runner

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// netns is the network of an app run apart (Options.Netns): a network
// namespace joined to the host by a veth pair, as a pod's network is to
// its node. The app and its sidecar listen inside it; the sidecar reaches
// the host's loopback services (control plane, Redis) through a forwarder
// at each end of the link, so every byte crosses it, and Unplug cuts them
// all as a pulled cable would: no resets, packets just stop.
type netns struct {
	name             string // as `ip netns` knows it
	hostLink, nsLink string
	hostIP, nsIP     string

	mu    sync.Mutex
	open  []io.Closer // listeners and connections, closed on removal
	ended bool
}

// newNetns makes namespace number i of this run. The addresses are a /30
// of 10.251.0.0/16 picked by the runner's pid, so that runs side by side
// do not collide.
func newNetns(i int) (*netns, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("an app in a network namespace (Options.Netns) needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, errors.New("an app in a network namespace (Options.Netns) needs iproute2's ip")
	}
	pid := os.Getpid()
	block := (pid%16000)*4 + i*4 // a /30 per namespace
	third, fourth := 1+block/256%250, block%256
	n := &netns{
		name:     fmt.Sprintf("daprshop-%d-%d", pid, i),
		hostLink: fmt.Sprintf("dsh%dh%d", pid%1000000, i),
		nsLink:   fmt.Sprintf("dsh%dn%d", pid%1000000, i),
		hostIP:   fmt.Sprintf("10.251.%d.%d", third, fourth+1),
		nsIP:     fmt.Sprintf("10.251.%d.%d", third, fourth+2),
	}
	steps := [][]string{
		{"netns", "add", n.name},
		{"link", "add", n.hostLink, "type", "veth", "peer", "name", n.nsLink},
		{"link", "set", n.nsLink, "netns", n.name},
		{"addr", "add", n.hostIP + "/30", "dev", n.hostLink},
		{"link", "set", n.hostLink, "up"},
		{"netns", "exec", n.name, "ip", "addr", "add", n.nsIP + "/30", "dev", n.nsLink},
		{"netns", "exec", n.name, "ip", "link", "set", n.nsLink, "up"},
		{"netns", "exec", n.name, "ip", "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			n.remove()
			return nil, err
		}
	}
	return n, nil
}

func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// remove closes the forwarders and deletes the namespace, which takes the
// veth pair with it.
func (n *netns) remove() {
	n.mu.Lock()
	n.ended = true
	for _, c := range n.open {
		c.Close()
	}
	n.open = nil
	n.mu.Unlock()
	_ = ip("netns", "del", n.name)
	_ = ip("link", "del", n.hostLink) // gone already unless the move failed
}

// wrap runs a command inside the namespace (`ip netns exec` execs it, so
// the pid is the command's own).
func (n *netns) wrap(bin string, args []string) (string, []string) {
	return "ip", append([]string{"netns", "exec", n.name, bin}, args...)
}

// setLink takes the host's end of the link up or down.
func (n *netns) setLink(up bool) error {
	return ip("link", "set", n.hostLink, map[bool]string{true: "up", false: "down"}[up])
}

// reachHost makes a port of the host's loopback answer on the namespace's
// loopback too, through the link: a forwarder inside listens on
// 127.0.0.1:port and dials the host's end of the link, where a forwarder
// outside dials 127.0.0.1:port.
func (n *netns) reachHost(port int) error {
	p := strconv.Itoa(port)
	outside, err := net.Listen("tcp", net.JoinHostPort(n.hostIP, p))
	if err != nil {
		return err
	}
	n.track(outside)
	go n.forward(outside, func() (net.Conn, error) { return net.Dial("tcp", net.JoinHostPort("127.0.0.1", p)) })
	var inside net.Listener
	if err := n.do(func() (err error) { inside, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", p)); return err }); err != nil {
		return err
	}
	n.track(inside)
	go n.forward(inside, func() (c net.Conn, err error) {
		err = n.do(func() (err error) { c, err = net.Dial("tcp", net.JoinHostPort(n.hostIP, p)); return err })
		return c, err
	})
	return nil
}

func (n *netns) track(c io.Closer) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ended {
		c.Close()
		return false
	}
	n.open = append(n.open, c)
	return true
}

func (n *netns) untrack(c io.Closer) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.open = slices.DeleteFunc(n.open, func(o io.Closer) bool { return o == c })
}

func (n *netns) forward(ln net.Listener, dial func() (net.Conn, error)) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			server, err := dial()
			if err != nil {
				client.Close()
				return
			}
			if !n.track(client) || !n.track(server) {
				client.Close()
				server.Close()
				return
			}
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) { _, _ = io.Copy(dst, src); done <- struct{}{} }
			go pipe(server, client)
			go pipe(client, server)
			<-done
			client.Close()
			server.Close()
			n.untrack(client)
			n.untrack(server)
		}()
	}
}

// do runs fn on an OS thread inside the namespace: the sockets fn makes
// stay in it. The thread returns to the host's namespace afterwards; if it
// cannot, it stays locked and dies with the goroutine.
func (n *netns) do(fn func() error) error {
	runtime.LockOSThread()
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer home.Close()
	target, err := os.Open("/run/netns/" + n.name)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter network namespace %s: %w", n.name, err)
	}
	ferr := fn()
	if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err == nil {
		runtime.UnlockOSThread()
	}
	return ferr
}

// host is the address an app and its sidecar listen on for the host:
// loopback, or their end of the link.
func (a *app) host() string {
	if a.ns != nil {
		return a.ns.nsIP
	}
	return "127.0.0.1"
}

// urlHost is host as the app's URLs name it.
func (a *app) urlHost() string {
	if a.ns != nil {
		return a.ns.nsIP
	}
	return "localhost"
}

// SidecarAddress is where an app's sidecar listens for other sidecars
// (host:port), whatever it announces.
func (r *Run) SidecarAddress(appID string) string {
	if a := r.app(appID); a != nil {
		return net.JoinHostPort(a.host(), strconv.Itoa(a.DaprInternalGRPCPort))
	}
	return ""
}

// Unplug takes the link of an app in a network namespace down: its app
// and sidecar keep running, cut off from everything else. Plug restores it.
func (r *Run) Unplug(appID string) error { return r.setLink(appID, false) }

// Plug brings back the link Unplug took down.
func (r *Run) Plug(appID string) error { return r.setLink(appID, true) }

func (r *Run) setLink(appID string, up bool) error {
	a := r.app(appID)
	if a == nil || a.ns == nil {
		return fmt.Errorf("app %q is not in a network namespace of its own (Options.Netns)", appID)
	}
	return a.ns.setLink(up)
}

// placeInNetns gives each app of o.Netns its namespace, with the host's
// ports its sidecar needs forwarded into it, and sets what o.Announce
// asks.
func (r *Run) placeInNetns(o Options) error {
	for id, addr := range o.Announce {
		a := r.app(id)
		if a == nil {
			return fmt.Errorf("Announce: the run has no app %q", id)
		}
		a.announce = addr
	}
	if len(o.Netns) == 0 {
		return nil
	}
	if !o.FreePorts {
		return errors.New("Netns needs a FreePorts run")
	}
	ports := r.hostPorts()
	for i, id := range o.Netns {
		a := r.app(id)
		if a == nil {
			return fmt.Errorf("Netns: the run has no app %q", id)
		}
		if slices.ContainsFunc(r.apps, func(b *app) bool { return b.AppID == id && b.replica > 1 }) {
			return fmt.Errorf("Netns: app %q has replicas; one namespace holds one process and its sidecar", id)
		}
		ns, err := newNetns(i)
		if err != nil {
			return err
		}
		r.cleanups = append(r.cleanups, ns.remove)
		for _, p := range ports {
			if err := ns.reachHost(p); err != nil {
				return fmt.Errorf("forward port %d into %s: %w", p, ns.name, err)
			}
		}
		a.ns = ns
		a.Env["APP_LISTEN_ADDRESS"] = "0.0.0.0" // the namespace's interfaces only
		a.APIListenAddresses = "127.0.0.1," + ns.nsIP
		if a.announce == "" {
			a.announce = ns.nsIP
		}
	}
	return nil
}

// hostPorts are the ports of the host's loopback a sidecar may need:
// the control plane's and the Redis servers' of the components.
func (r *Run) hostPorts() []int {
	var ports []int
	if r.cp != nil {
		ports = append(ports, r.cp.sentryPort, r.cp.placementPort, r.cp.schedulerPort)
	}
	for _, addr := range append(slices.Clone(r.redisAddrs), r.traceEndpoint) {
		if _, p, err := net.SplitHostPort(addr); err == nil {
			if n, err := strconv.Atoi(p); err == nil && !slices.Contains(ports, n) {
				ports = append(ports, n)
			}
		}
	}
	return ports
}
