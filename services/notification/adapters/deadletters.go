package adapters

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/daprshop/notification/app"
	"github.com/daprshop/platform/statestore"
)

// deadLetterRecord is a dead letter as stored (its JSON names are the
// stored format); it has app.DeadLetter's fields one for one.
type deadLetterRecord struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	Type       string          `json:"type"`
	Data       json.RawMessage `json:"data"`
	Deliveries int             `json:"deliveries"`
	ArrivedAt  time.Time       `json:"arrivedAt"`
	Replays    int             `json:"replays"`
}

// StateDeadLetters keeps deadletter|<id> and the list of IDs under
// deadletters, newest first: at most keep of them, so that the list (one
// document, read whole) stays bounded. Past that the oldest is dropped with
// its record.
type StateDeadLetters struct {
	store *statestore.Store
	keep  int
}

// NewStateDeadLetters uses store and keeps the newest keep dead letters.
func NewStateDeadLetters(store *statestore.Store, keep int) *StateDeadLetters {
	return &StateDeadLetters{store: store, keep: keep}
}

// Add stores d, or refreshes it when the same event died again.
func (s *StateDeadLetters) Add(ctx context.Context, d app.DeadLetter) error {
	_, err := statestore.Update(ctx, s.store, "deadletter|"+d.ID, statestore.RecordRetry, func(cur *deadLetterRecord, found bool) (bool, error) {
		if found {
			d.Replays = cur.Replays
		}
		*cur = deadLetterRecord(d)
		return true, nil
	})
	if err != nil {
		return err
	}
	var dropped []string
	_, err = statestore.Update(ctx, s.store, "deadletters", statestore.RecordRetry, func(ids *[]string, _ bool) (bool, error) {
		dropped = nil
		if slices.Contains(*ids, d.ID) {
			return false, nil
		}
		*ids = append([]string{d.ID}, *ids...)
		if len(*ids) > s.keep {
			dropped = slices.Clone((*ids)[s.keep:])
			*ids = (*ids)[:s.keep]
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	// Best effort: a record left behind is listed nowhere, and the list
	// stays bounded either way.
	for _, id := range dropped {
		_ = s.store.Delete(ctx, "deadletter|"+id, "")
	}
	return nil
}

// List returns every dead letter, newest first.
func (s *StateDeadLetters) List(ctx context.Context) ([]app.DeadLetter, error) {
	var ids []string
	if _, _, err := s.store.Get(ctx, "deadletters", &ids); err != nil {
		return nil, err
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = "deadletter|" + id
	}
	records, err := statestore.GetInOrder[deadLetterRecord](ctx, s.store, keys)
	if err != nil {
		return nil, err
	}
	out := make([]app.DeadLetter, len(records))
	for i, r := range records {
		out[i] = app.DeadLetter(*r)
	}
	return out, nil
}

// Get returns one dead letter.
func (s *StateDeadLetters) Get(ctx context.Context, id string) (*app.DeadLetter, error) {
	r, err := statestore.GetOr[deadLetterRecord](ctx, s.store, "deadletter|"+id, app.ErrNotFound)
	if err != nil {
		return nil, err
	}
	d := app.DeadLetter(*r)
	return &d, nil
}

// CountReplay records one replay of a dead letter.
func (s *StateDeadLetters) CountReplay(ctx context.Context, id string) error {
	_, err := statestore.Update(ctx, s.store, "deadletter|"+id, statestore.RecordRetry, func(d *deadLetterRecord, found bool) (bool, error) {
		if !found {
			return false, app.ErrNotFound
		}
		d.Replays++
		return true, nil
	})
	return err
}
