package adapters

import (
	"context"
	"slices"

	"github.com/daprshop/notification/app"
	"github.com/daprshop/platform/statestore"
)

// StateDeadLetters keeps deadletter|<id> and the list of IDs under deadletters.
type StateDeadLetters struct{ store *statestore.Store }

// NewStateDeadLetters uses store.
func NewStateDeadLetters(store *statestore.Store) *StateDeadLetters {
	return &StateDeadLetters{store: store}
}

// Add stores d, or refreshes it when the same event died again.
func (s *StateDeadLetters) Add(ctx context.Context, d app.DeadLetter) error {
	_, err := statestore.Update(ctx, s.store, "deadletter|"+d.ID, statestore.RecordRetry, func(cur *app.DeadLetter, found bool) (bool, error) {
		if found {
			d.Replays = cur.Replays
		}
		*cur = d
		return true, nil
	})
	if err != nil {
		return err
	}
	_, err = statestore.Update(ctx, s.store, "deadletters", statestore.RecordRetry, func(ids *[]string, _ bool) (bool, error) {
		if slices.Contains(*ids, d.ID) {
			return false, nil
		}
		*ids = append([]string{d.ID}, *ids...)
		return true, nil
	})
	return err
}

// List returns every dead letter, newest first.
func (s *StateDeadLetters) List(ctx context.Context) ([]app.DeadLetter, error) {
	var ids []string
	if _, _, err := s.store.Get(ctx, "deadletters", &ids); err != nil {
		return nil, err
	}
	out := make([]app.DeadLetter, 0, len(ids))
	for _, id := range ids {
		d, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, nil
}

// Get returns one dead letter.
func (s *StateDeadLetters) Get(ctx context.Context, id string) (*app.DeadLetter, error) {
	var d app.DeadLetter
	found, _, err := s.store.Get(ctx, "deadletter|"+id, &d)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, app.ErrNotFound
	}
	return &d, nil
}

// CountReplay records one replay of a dead letter.
func (s *StateDeadLetters) CountReplay(ctx context.Context, id string) error {
	_, err := statestore.Update(ctx, s.store, "deadletter|"+id, statestore.RecordRetry, func(d *app.DeadLetter, found bool) (bool, error) {
		if !found {
			return false, app.ErrNotFound
		}
		d.Replays++
		return true, nil
	})
	return err
}
