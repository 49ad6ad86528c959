// Package probe checks, with no client library, that a backing server
// answers, so tools can fail fast with a useful message.
package probe

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"time"
)

// Redis checks that addr answers the Redis PING command within 2 seconds.
// -NOAUTH counts as an answer: a Redis is there, and its password is the
// component's business.
func Redis(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") && !strings.HasPrefix(line, "-NOAUTH") {
		return fmt.Errorf("unexpected answer %q", strings.TrimSpace(line))
	}
	return nil
}
