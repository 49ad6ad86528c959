package runner

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

type component struct {
	Kind string `yaml:"kind"`
	Spec struct {
		Type     string `yaml:"type"`
		Metadata []struct {
			Name  string `yaml:"name"`
			Value any    `yaml:"value"`
		} `yaml:"metadata"`
	} `yaml:"spec"`
}

// redisHosts lists the redisHost of every Redis component under paths.
func redisHosts(paths []string) ([]string, error) {
	var hosts []string
	for _, dir := range paths {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			dec := yaml.NewDecoder(strings.NewReader(string(b)))
			for {
				var c component
				if err := dec.Decode(&c); err != nil {
					if errors.Is(err, io.EOF) {
						break
					}
					return nil, fmt.Errorf("%s: %w", f, err)
				}
				if c.Kind != "Component" || !strings.Contains(c.Spec.Type, "redis") {
					continue
				}
				for _, m := range c.Spec.Metadata {
					if h, ok := m.Value.(string); ok && m.Name == "redisHost" && !slices.Contains(hosts, h) {
						hosts = append(hosts, h)
					}
				}
			}
		}
	}
	return hosts, nil
}

// pingRedis checks that addr answers the Redis PING command.
func pingRedis(addr string) error {
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
	// -NOAUTH still proves a Redis is there; the component's password is its business.
	if !strings.HasPrefix(line, "+PONG") && !strings.HasPrefix(line, "-NOAUTH") {
		return fmt.Errorf("unexpected answer %q", strings.TrimSpace(line))
	}
	return nil
}
