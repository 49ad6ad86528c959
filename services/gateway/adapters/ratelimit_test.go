package adapters_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/daprshop/gateway/adapters"
	"github.com/daprshop/gateway/ports"
	"github.com/daprshop/platform/daprtest"
)

// Two gateway replicas count in one Redis: the limit holds across both.
func TestRedisLimiterIsSharedByReplicas(t *testing.T) {
	url := "redis://" + daprtest.Redis(t) + "/15"
	a, err := adapters.NewRedisLimiter(url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := adapters.NewRedisLimiter(url)
	defer b.Close()
	ctx := context.Background()
	key := fmt.Sprintf("test:%d", time.Now().UnixNano())
	limit := ports.Limit{Requests: 5, Window: time.Minute}
	for i, replica := range []*adapters.RedisLimiter{a, b, a, b, a} {
		d, err := replica.Allow(ctx, key, limit)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Allowed || d.Remaining != 4-i {
			t.Fatalf("request %d: %+v", i+1, d)
		}
	}
	d, err := b.Allow(ctx, key, limit)
	if err != nil {
		t.Fatal(err)
	}
	// One request is earned back every window/requests = 12 s.
	if d.Allowed || d.RetryAfter < 10*time.Second || d.RetryAfter > 12*time.Second || d.Reset < 50*time.Second {
		t.Fatalf("sixth request: %+v", d)
	}
}

func TestRedisLimiterReportsAnUnreachableStore(t *testing.T) {
	l, err := adapters.NewRedisLimiter("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := l.Allow(ctx, "k", ports.Limit{Requests: 1, Window: time.Minute}); err == nil {
		t.Fatal("no error from a store that is not there")
	}
}
