// Package statestore is a typed, JSON-valued view of one Dapr state store
// with the concurrency primitives every service builds on: insert-if-absent,
// compare-and-swap by ETag, and a bounded read-modify-write retry loop.
// They behave the same on every transactional Dapr store (Redis,
// PostgreSQL, ...), which is what lets a component swap need no code change.
package statestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/daprshop/platform/sidecar"
)

// Client is the part of the go-sdk client the store uses.
type Client interface {
	GetState(ctx context.Context, store, key string, meta map[string]string) (*dapr.StateItem, error)
	GetBulkState(ctx context.Context, store string, keys []string, meta map[string]string, parallelism int32) ([]*dapr.BulkStateItem, error)
	SaveStateWithETag(ctx context.Context, store, key string, data []byte, etag string, meta map[string]string, so ...dapr.StateOption) error
	SaveBulkState(ctx context.Context, store string, items ...*dapr.SetStateItem) error
	DeleteStateWithETag(ctx context.Context, store, key string, etag *dapr.ETag, meta map[string]string, opts *dapr.StateOptions) error
}

// Store is one state store component.
type Store struct {
	client  Client
	name    string
	timeout time.Duration
	// failFastUntil (unix nanoseconds; 0: never) is the end of the cooldown
	// after a call the store left unanswered (see call).
	failFastUntil atomic.Int64
	cooldown      time.Duration
}

// New returns the store named name (the component's metadata.name).
func New(client Client, name string) *Store {
	return &Store{client: client, name: name, timeout: 5 * time.Second, cooldown: OutageCooldown}
}

// OutageCooldown is how long a store fails fast after a call it left
// unanswered.
const OutageCooldown = 5 * time.Second

// call runs one call to the sidecar, bounded by the store's timeout. When
// a call ends unanswered (a timeout, the sidecar or store unavailable,
// sidecar.Unavailable) while its caller still waits, every call for the next
// OutageCooldown fails at once with sidecar.ErrUnavailable instead of
// waiting out its own timeout, so requests answer 503 fast while Redis
// stalls; after that, calls go through again and the next unanswered one
// starts another cooldown. Conflicts and missing keys are answers.
func (s *Store) call(ctx context.Context, do func(context.Context) error) error {
	if until := s.failFastUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		return fmt.Errorf("state store %s: %w (it did not answer a call less than %s ago)", s.name, sidecar.ErrUnavailable, OutageCooldown)
	}
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := do(callCtx)
	switch {
	case err == nil:
		s.failFastUntil.Store(0)
	case sidecar.Unavailable(err) && ctx.Err() == nil:
		s.failFastUntil.Store(time.Now().Add(s.cooldown).UnixNano())
	}
	return err
}

// Ready is a readiness check: the store answers a read through the
// sidecar (and is not failing fast).
func (s *Store) Ready(ctx context.Context) error {
	_, _, err := s.Get(ctx, "health|probe", &struct{}{})
	return err
}

// ErrConflict is returned by Update when the retries run out.
var ErrConflict = errors.New("state changed concurrently too many times")

// IsConflict reports an ETag mismatch, which the sidecar returns as gRPC Aborted.
func IsConflict(err error) bool { return status.Code(err) == codes.Aborted }

// Get reads key into into. found is false when the key does not exist.
func (s *Store) Get(ctx context.Context, key string, into any) (found bool, etag string, err error) {
	var item *dapr.StateItem
	err = s.call(ctx, func(ctx context.Context) (err error) {
		item, err = s.client.GetState(ctx, s.name, key, nil)
		return err
	})
	if err != nil {
		return false, "", fmt.Errorf("get %s: %w", key, err)
	}
	if item == nil || len(item.Value) == 0 {
		return false, "", nil
	}
	if err := json.Unmarshal(item.Value, into); err != nil {
		return false, "", fmt.Errorf("decode %s: %w", key, err)
	}
	return true, item.Etag, nil
}

// Item is one result of GetBulk.
type Item struct {
	Key   string
	Value []byte // nil when the key does not exist
	ETag  string
}

// bulkChunk bounds the keys of one bulk call to the sidecar.
const bulkChunk = 250

// GetBulk reads many keys, at most 250 to a call to the sidecar.
func (s *Store) GetBulk(ctx context.Context, keys []string) ([]Item, error) {
	out := make([]Item, 0, len(keys))
	for start := 0; start < len(keys); start += bulkChunk {
		chunk := keys[start:min(start+bulkChunk, len(keys))]
		var items []*dapr.BulkStateItem
		err := s.call(ctx, func(ctx context.Context) (err error) {
			items, err = s.client.GetBulkState(ctx, s.name, chunk, nil, 16)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("bulk get of %d keys: %w", len(chunk), err)
		}
		for _, it := range items {
			if it.Error != "" {
				return nil, fmt.Errorf("bulk get %s: %s", it.Key, it.Error)
			}
			item := Item{Key: it.Key, Value: it.Value, ETag: it.Etag}
			if len(it.Value) == 0 {
				item.Value = nil
			}
			out = append(out, item)
		}
	}
	return out, nil
}

// Insert writes key only if it does not exist. On an existing key it fails
// (the error is not a conflict on every store: read the key to tell).
func (s *Store) Insert(ctx context.Context, key string, v any) error {
	return s.Save(ctx, key, v, "")
}

// Save writes key with first-write concurrency: with an ETag it succeeds
// only if the key is unchanged since it was read (IsConflict otherwise);
// without one, only if the key is absent.
func (s *Store) Save(ctx context.Context, key string, v any, etag string) error {
	return s.SaveExpiring(ctx, key, v, etag, 0)
}

// SaveExpiring is Save for a key the store deletes by itself after ttl
// (rounded up to a second; 0 keeps it). Every state store we use supports
// Dapr's ttlInSeconds: Redis, PostgreSQL, SQLite.
//
// Every write here is first-write, and must stay so: Dapr's Redis store
// marks a key written that way, and refuses it a later write without its
// ETag ("failed to set key"), so a read-modify-write is the only update.
func (s *Store) SaveExpiring(ctx context.Context, key string, v any, etag string, ttl time.Duration) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var meta map[string]string
	if ttl > 0 {
		meta = map[string]string{"ttlInSeconds": strconv.FormatInt(int64((ttl+time.Second-1)/time.Second), 10)}
	}
	return s.call(ctx, func(ctx context.Context) error {
		return s.client.SaveStateWithETag(ctx, s.name, key, data, etag, meta,
			dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite), dapr.WithConsistency(dapr.StateConsistencyStrong))
	})
}

// Put writes many keys unconditionally, in one call: for bulk loads only.
func (s *Store) Put(ctx context.Context, values map[string]any) error {
	items := make([]*dapr.SetStateItem, 0, len(values))
	for k, v := range values {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		items = append(items, &dapr.SetStateItem{Key: k, Value: data})
	}
	// One call for many keys: it may take longer than one key's timeout.
	ctx, cancel := context.WithTimeout(ctx, 4*s.timeout)
	defer cancel()
	return s.client.SaveBulkState(ctx, s.name, items...)
}

// Delete removes key; with an ETag only if it is unchanged.
func (s *Store) Delete(ctx context.Context, key, etag string) error {
	var tag *dapr.ETag
	if etag != "" {
		tag = &dapr.ETag{Value: etag}
	}
	return s.call(ctx, func(ctx context.Context) error {
		return s.client.DeleteStateWithETag(ctx, s.name, key, tag, nil,
			&dapr.StateOptions{Concurrency: dapr.StateConcurrencyFirstWrite, Consistency: dapr.StateConsistencyStrong})
	})
}

// Retry bounds Update's read-modify-write loop.
type Retry struct {
	Attempts int
	// MaxBackoff caps the jittered pause between attempts.
	MaxBackoff time.Duration
}

// DefaultRetry suits keys a handful of writers contend for.
var DefaultRetry = Retry{Attempts: 5, MaxBackoff: 20 * time.Millisecond}

// RecordRetry suits a record that several steps of one flow may write at
// once (an order by its saga and a cancellation, a payment by concurrent
// retries, a reservation by a commit and the expiry sweep, a notification's
// ledger by redeliveries).
var RecordRetry = Retry{Attempts: 20, MaxBackoff: 10 * time.Millisecond}

// Update reads key, lets change modify the value, and writes it back under
// the ETag it read, retrying from the read when another writer got there
// first. change receives found=false for a missing key (v is then zero) and
// returns whether to write; returning an error stops without writing. When
// the attempts run out Update returns ErrConflict.
func Update[T any](ctx context.Context, s *Store, key string, r Retry, change func(v *T, found bool) (bool, error)) (T, error) {
	return UpdateExpiring(ctx, s, key, 0, r, change)
}

// UpdateExpiring is Update for a key the store deletes by itself ttl after
// its last write (0 keeps it).
func UpdateExpiring[T any](ctx context.Context, s *Store, key string, ttl time.Duration, r Retry, change func(v *T, found bool) (bool, error)) (T, error) {
	var zero T
	for attempt := range r.Attempts {
		var v T
		found, etag, err := s.Get(ctx, key, &v)
		if err != nil {
			return zero, err
		}
		write, err := change(&v, found)
		if err != nil || !write {
			return v, err
		}
		err = s.SaveExpiring(ctx, key, v, etag, ttl)
		if err == nil {
			return v, nil
		}
		if !IsConflict(err) && found {
			return zero, fmt.Errorf("save %s: %w", key, err)
		}
		// A conflict, or a failed insert of a missing key (someone created it
		// meanwhile): read again after a jittered pause.
		if attempt+1 < r.Attempts {
			pause := time.Duration(rand.Int64N(int64(r.MaxBackoff) + 1))
			select {
			case <-ctx.Done():
				return zero, ctx.Err()
			case <-time.After(pause):
			}
		}
	}
	return zero, fmt.Errorf("%s: %w", key, ErrConflict)
}
