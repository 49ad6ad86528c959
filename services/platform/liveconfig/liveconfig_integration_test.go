package liveconfig_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"go.uber.org/zap"

	"github.com/daprshop/platform/daprtest"
	"github.com/daprshop/platform/liveconfig"
	"github.com/daprshop/platform/redisdb"
)

// TestWatcherFollowsTheStoreThroughARealSidecar changes keys in Redis and
// sees each change reach the service through daprd's configuration API:
// valid ones applied within a second, invalid ones refused (the set in
// force stays), a deleted key back to the start-up value.
func TestWatcherFollowsTheStoreThroughARealSidecar(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts daprd")
	}
	addr := daprtest.Redis(t)
	if err := redisdb.EnableKeyspaceEvents(addr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, release, err := redisdb.Reserve(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := redisdb.Set(addr, db, "limit", "7"); err != nil {
		t.Fatal(err)
	}
	store := daprtest.RedisConfigStore(addr, db)
	sc := daprtest.Start(t, daprtest.Options{AppID: "it-liveconfig", Resources: []string{store}})
	client, err := dapr.NewClientWithAddress(sc.GRPCAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	var mu sync.Mutex
	inForce := map[string]string{}
	applied := make(chan string, 10)
	apply := func(values map[string]string, version string) error {
		if v, ok := values["limit"]; ok {
			if n, err := strconv.Atoi(v); err != nil || n < 1 {
				return fmt.Errorf("limit %q is not a positive number", v)
			}
		}
		mu.Lock()
		inForce = values
		mu.Unlock()
		applied <- values["limit"] + "@" + version
		return nil
	}
	w := liveconfig.New(client.GrpcClient(), "configstore", []string{"limit", "flag"}, apply, zap.NewNop())
	go w.Run(ctx)

	want := func(what, limit string, within time.Duration) string {
		t.Helper()
		select {
		case got := <-applied:
			if got[:len(limit)+1] != limit+"@" {
				t.Fatalf("%s: applied %s, want limit %q", what, got, limit)
			}
			return got
		case <-time.After(within):
			t.Fatalf("%s: nothing applied within %s", what, within)
		}
		return ""
	}
	first := want("the value in the store at start", "7", time.Second)

	// At once: daprd subscribes to Redis a moment after it answers the
	// subscription, and the watcher's re-read catches what falls between.
	if err := redisdb.Set(addr, db, "limit", "3"); err != nil {
		t.Fatal(err)
	}
	second := want("a change right after start", "3", 3*time.Second)
	if err := redisdb.Set(addr, db, "limit", "5"); err != nil {
		t.Fatal(err)
	}
	want("a valid change", "5", time.Second)
	if first == second {
		t.Errorf("the version did not change: %s", second)
	}

	if err := redisdb.Set(addr, db, "limit", "banana"); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-applied:
		t.Fatalf("an invalid value was applied: %s", got)
	case <-time.After(time.Second):
	}
	mu.Lock()
	if inForce["limit"] != "5" {
		t.Errorf("in force after a refused change: %v", inForce)
	}
	mu.Unlock()

	if err := redisdb.Set(addr, db, "limit", "4"); err != nil {
		t.Fatal(err)
	}
	want("a valid change after a refused one", "4", time.Second)
	if err := redisdb.Del(addr, db, "limit"); err != nil {
		t.Fatal(err)
	}
	if got := want("the key removed", "", time.Second); got != "@start-up" {
		t.Errorf("removed: %s, want the start-up values", got)
	}
}
