package adapters

import (
	"context"
	"time"

	"github.com/daprshop/order/app"
	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/platform/sweeplist"
)

// StartList is app.StartList on a sweeplist (prefix "checkout-starts").
type StartList struct{ list *sweeplist.List }

// NewStartList keeps the list in store, each minute for at most retention.
func NewStartList(store *statestore.Store, retention time.Duration) *StartList {
	return &StartList{list: sweeplist.New(store, "checkout-starts", retention)}
}

// Add writes orderID down under the minute of at.
func (s *StartList) Add(ctx context.Context, orderID string, at time.Time) error {
	return s.list.Add(ctx, orderID, at)
}

// Before answers the minutes that began before t.
func (s *StartList) Before(ctx context.Context, t time.Time) ([]app.Listed, error) {
	minutes, err := s.list.Before(ctx, t)
	if err != nil {
		return nil, err
	}
	out := make([]app.Listed, len(minutes))
	for i, m := range minutes {
		out[i] = app.Listed{Minute: m.At, Ended: m.Ended(t), OrderIDs: m.IDs}
	}
	return out, nil
}

// Drop forgets minutes.
func (s *StartList) Drop(ctx context.Context, minutes []int64) error {
	return s.list.Drop(ctx, minutes)
}
