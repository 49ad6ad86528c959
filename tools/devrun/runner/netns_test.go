package runner

import (
	"bufio"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestNetns checks the namespace's plumbing for real: a server on the
// host's loopback answers inside the namespace through the link, stops
// answering when the link is down, and answers again once it is up.
func TestNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				c.Write([]byte("echo " + line))
			}()
		}
	}()
	n, err := newNetns(7)
	if err != nil {
		t.Fatal(err)
	}
	defer n.remove()
	port := ln.Addr().(*net.TCPAddr).Port
	if err := n.reachHost(port); err != nil {
		t.Fatal(err)
	}
	// ask sends a line from inside the namespace and reads the answer.
	ask := func() (string, error) {
		var c net.Conn
		if err := n.do(func() (err error) {
			c, err = net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
			return err
		}); err != nil {
			return "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		c.Write([]byte("hi\n"))
		return bufio.NewReader(c).ReadString('\n')
	}
	if got, err := ask(); err != nil || got != "echo hi\n" {
		t.Fatalf("through the link: %q, %v", got, err)
	}
	if err := n.setLink(false); err != nil {
		t.Fatal(err)
	}
	if got, err := ask(); err == nil {
		t.Fatalf("with the link down the host still answered: %q", got)
	}
	if err := n.setLink(true); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := ask()
		if err == nil && got == "echo hi\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the link came back: %q, %v", got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The namespace and its link go with remove.
	n.remove()
	if _, err := os.Stat("/run/netns/" + n.name); !os.IsNotExist(err) {
		t.Fatalf("namespace %s left behind: %v", n.name, err)
	}
}
