package daprtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/daprshop/platform/probe"
)

// RedisImage is the image testcontainers starts where a Docker engine runs.
const RedisImage = "redis:7-alpine"

// Redis returns the address of a Redis for the test, in this order:
//  1. REDIS_ADDR, when set (CI and machines that run Redis themselves);
//  2. a fresh container from testcontainers-go, when a Docker engine answers;
//  3. 127.0.0.1:6379, the address `dapr init` and this repository's machines use.
//
// It fails the test, never skips it, when that Redis does not answer PING.
func Redis(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" && dockerAvailable() {
		addr = redisContainer(t)
	}
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	if err := probe.Redis(addr); err != nil {
		t.Fatalf("Redis at %s: %v (start one, or set REDIS_ADDR)", addr, err)
	}
	return addr
}

func dockerAvailable() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false // testcontainers panics on some broken Docker setups
		}
	}()
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return false
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return p.Health(ctx) == nil
}

func redisContainer(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := testcontainers.Run(ctx, RedisImage,
		testcontainers.WithExposedPorts("6379/tcp"),
		testcontainers.WithWaitStrategy(wait.ForListeningPort("6379/tcp")),
	)
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatalf("start %s with testcontainers: %v", RedisImage, err)
	}
	ep, err := c.PortEndpoint(ctx, "6379/tcp", "")
	if err != nil {
		t.Fatal(err)
	}
	return ep
}
