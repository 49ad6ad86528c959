package adapters

import (
	"context"
	"fmt"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/daprshop/gateway/ports"
)

// RedisLimiter counts requests in Redis with the generic cell rate
// algorithm (github.com/go-redis/redis_rate): one atomic script call per
// check, so every gateway replica shares the same counters. Dapr's building
// blocks have no atomic counter to read back (a state store offers only
// compare-and-swap: two round trips and retries under contention), and its
// rate-limit middleware counts in each sidecar's memory.
type RedisLimiter struct {
	client  *redis.Client
	limiter *redis_rate.Limiter
	addr    string
}

// NewRedisLimiter connects to the Redis at url (redis://host:port/db).
func NewRedisLimiter(url string) (*RedisLimiter, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("rate limit store %q: %w", url, err)
	}
	// The limiter's own deadline bounds each call; no retries behind it.
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	return &RedisLimiter{client: c, limiter: redis_rate.NewLimiter(c), addr: fmt.Sprintf("%s/%d", opts.Addr, opts.DB)}, nil
}

// Allow counts one request of key against l.
func (r *RedisLimiter) Allow(ctx context.Context, key string, l ports.Limit) (ports.Decision, error) {
	res, err := r.limiter.Allow(ctx, "daprshop:"+key, redis_rate.Limit{Rate: l.Requests, Burst: l.Requests, Period: l.Window})
	if err != nil {
		return ports.Decision{}, err
	}
	return ports.Decision{Allowed: res.Allowed > 0, Remaining: res.Remaining, RetryAfter: res.RetryAfter, Reset: res.ResetAfter}, nil
}

// String names the store for logs.
func (r *RedisLimiter) String() string { return "redis " + r.addr }

// Close releases the connections.
func (r *RedisLimiter) Close() error { return r.client.Close() }
