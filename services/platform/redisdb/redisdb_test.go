package redisdb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/daprshop/platform/daprtest"
	"github.com/daprshop/platform/redisdb"
)

func TestReserveHandsOutEmptyDatabasesToOneHolderEach(t *testing.T) {
	addr := daprtest.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, releaseA, err := redisdb.Reserve(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseA()
	b, releaseB, err := redisdb.Reserve(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || a < 1 || a > 14 || b < 1 || b > 14 {
		t.Fatalf("reserved %d and %d", a, b)
	}
	defer releaseB()
	if err := redisdb.Set(addr, b, "left-behind", "x"); err != nil {
		t.Fatal(err)
	}
	if n, _ := redisdb.Command(addr, a, "DBSIZE"); n != "0" {
		t.Errorf("database %d is not empty: %s keys", a, n)
	}
	if err := redisdb.Flush(addr, b); err != nil {
		t.Fatal(err)
	}
	if n, err := redisdb.Command(addr, b, "DBSIZE"); err != nil || n != "0" {
		t.Errorf("database %d after Flush: %s keys (%v)", b, n, err)
	}
}

func TestEnableKeyspaceEventsKeepsOtherFlags(t *testing.T) {
	addr := daprtest.Redis(t)
	if err := redisdb.EnableKeyspaceEvents(addr); err != nil {
		t.Fatal(err)
	}
	flags, err := redisdb.Command(addr, 0, "CONFIG", "GET", "notify-keyspace-events")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(flags, "K") || !(strings.Contains(flags, "A") || strings.Contains(flags, "$") && strings.Contains(flags, "g")) {
		t.Errorf("notify-keyspace-events = %q", flags)
	}
}
