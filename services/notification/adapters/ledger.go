package adapters

import (
	"context"
	"time"

	"github.com/daprshop/platform/statestore"
)

// StateLedger keeps seen|<id> and deliveries|<id> in a state store.
type StateLedger struct{ store *statestore.Store }

// NewStateLedger uses store.
func NewStateLedger(store *statestore.Store) *StateLedger { return &StateLedger{store: store} }

// Seen reports whether eventID was handled.
func (l *StateLedger) Seen(ctx context.Context, id string) (bool, error) {
	var at time.Time
	found, _, err := l.store.Get(ctx, "seen|"+id, &at)
	return found, err
}

// MarkSeen records eventID as handled.
func (l *StateLedger) MarkSeen(ctx context.Context, id string) error {
	return l.store.Put(ctx, map[string]any{"seen|" + id: time.Now().UTC()})
}

// CountDelivery adds one delivery of eventID and returns the count.
func (l *StateLedger) CountDelivery(ctx context.Context, id string) (int, error) {
	return statestore.Update(ctx, l.store, "deliveries|"+id, statestore.RecordRetry, func(n *int, _ bool) (bool, error) {
		*n++
		return true, nil
	})
}

// Deliveries returns how often eventID was delivered.
func (l *StateLedger) Deliveries(ctx context.Context, id string) (int, error) {
	var n int
	_, _, err := l.store.Get(ctx, "deliveries|"+id, &n)
	return n, err
}
