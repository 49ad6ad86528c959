package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/daprshop/notification/app"
	"github.com/daprshop/notification/domain"
	"github.com/daprshop/platform/statestore"
)

// StateLedger keeps, in a state store:
//   - claim|<event ID>: the claim to send that event's email;
//   - deliveries|<event ID>: how often the event was delivered;
//   - claims|<unix minute>: the IDs claimed in that minute, which the sweep
//     reads to find claims left open, and deletes once all are finished;
//   - claims|minutes: the minutes that have such a list.
//
// Claims and delivery counts expire after the retention: a copy of an
// event delivered later than that would send its email again. The lists
// expire too, should the sweep never run.
type StateLedger struct {
	store     *statestore.Store
	retention time.Duration

	mu     sync.Mutex
	listed map[int64]bool // minutes this process knows claims|minutes holds
}

// NewStateLedger uses store; claims and counts are kept for retention.
func NewStateLedger(store *statestore.Store, retention time.Duration) *StateLedger {
	return &StateLedger{store: store, retention: retention, listed: map[int64]bool{}}
}

const minutesKey = "claims|minutes"

func claimKey(id string) string { return "claim|" + id }

func minuteKey(m int64) string { return "claims|" + strconv.FormatInt(m, 10) }

// claimRecord is a claim as stored.
type claimRecord struct {
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
	ClaimedAt time.Time `json:"claimedAt"`
	SentAt    time.Time `json:"sentAt,omitzero"`
}

func recordOf(c app.Claim) claimRecord {
	return claimRecord{To: c.Email.To, Subject: c.Email.Subject, Body: c.Email.Body, ClaimedAt: c.ClaimedAt, SentAt: c.SentAt}
}

func (r claimRecord) claim() app.Claim {
	return app.Claim{Email: domain.Email{To: r.To, Subject: r.Subject, Body: r.Body}, ClaimedAt: r.ClaimedAt, SentAt: r.SentAt}
}

// Claim lists the ID under its minute first, then inserts the claim: a
// claim that exists is always on a list the sweep reads.
func (l *StateLedger) Claim(ctx context.Context, id string, c app.Claim) (*app.Claim, string, error) {
	minute := c.ClaimedAt.Unix() / 60
	if err := l.list(ctx, minute, id); err != nil {
		return nil, "", err
	}
	insertErr := l.store.SaveExpiring(ctx, claimKey(id), recordOf(c), "", l.retention)
	if insertErr == nil {
		return nil, "", nil
	}
	var stored claimRecord
	found, etag, err := l.store.Get(ctx, claimKey(id), &stored)
	if err != nil {
		return nil, "", errors.Join(insertErr, err)
	}
	if !found {
		return nil, "", fmt.Errorf("claim %s: %w", id, insertErr)
	}
	existing := stored.claim()
	return &existing, etag, nil
}

// list adds id to the minute's list, and the minute to claims|minutes the
// first time this process uses it.
func (l *StateLedger) list(ctx context.Context, minute int64, id string) error {
	l.mu.Lock()
	listed := l.listed[minute]
	l.mu.Unlock()
	if !listed {
		_, err := statestore.UpdateExpiring(ctx, l.store, minutesKey, l.retention, statestore.RecordRetry, func(ms *[]int64, _ bool) (bool, error) {
			if slices.Contains(*ms, minute) {
				return false, nil
			}
			*ms = append(*ms, minute)
			return true, nil
		})
		if err != nil {
			return err
		}
		l.mu.Lock()
		for m := range l.listed {
			if m < minute-60 {
				delete(l.listed, m) // an hour back is enough to remember
			}
		}
		l.listed[minute] = true
		l.mu.Unlock()
	}
	_, err := statestore.UpdateExpiring(ctx, l.store, minuteKey(minute), l.retention, statestore.RecordRetry, func(ids *[]string, _ bool) (bool, error) {
		if slices.Contains(*ids, id) {
			return false, nil
		}
		*ids = append(*ids, id)
		return true, nil
	})
	return err
}

// Retake replaces the claim at version with c.
func (l *StateLedger) Retake(ctx context.Context, id, version string, c app.Claim) (bool, error) {
	err := l.store.SaveExpiring(ctx, claimKey(id), recordOf(c), version, l.retention)
	if statestore.IsConflict(err) {
		return false, nil
	}
	return err == nil, err
}

// Finish records the send.
func (l *StateLedger) Finish(ctx context.Context, id string, sentAt time.Time) error {
	_, err := statestore.UpdateExpiring(ctx, l.store, claimKey(id), l.retention, statestore.RecordRetry, func(r *claimRecord, _ bool) (bool, error) {
		r.SentAt = sentAt
		return true, nil
	})
	return err
}

// Release deletes the claim.
func (l *StateLedger) Release(ctx context.Context, id string) error {
	return l.store.Delete(ctx, claimKey(id), "")
}

// Open reads the lists of the minutes before `before` and answers their
// claims still open and taken before it. A minute whose claims are all
// finished (sent, given up, or expired) is dropped with its list.
func (l *StateLedger) Open(ctx context.Context, before time.Time) ([]app.OpenClaim, error) {
	var minutes []int64
	if _, _, err := l.store.Get(ctx, minutesKey, &minutes); err != nil {
		return nil, err
	}
	var out []app.OpenClaim
	var finished []int64
	for _, m := range minutes {
		if m*60 >= before.Unix() {
			continue
		}
		var ids []string
		if _, _, err := l.store.Get(ctx, minuteKey(m), &ids); err != nil {
			return nil, err
		}
		open, unsent, err := l.open(ctx, ids, before)
		if err != nil {
			return nil, err
		}
		out = append(out, open...)
		// No claim can join a minute that ended before `before`.
		if unsent == 0 && (m+1)*60 <= before.Unix() {
			finished = append(finished, m)
		}
	}
	return out, l.drop(ctx, finished)
}

// open reads the claims of ids: those not sent and taken before `before`,
// and how many are not sent at all.
func (l *StateLedger) open(ctx context.Context, ids []string, before time.Time) (open []app.OpenClaim, unsent int, err error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = claimKey(id)
	}
	for start := 0; start < len(keys); start += 250 {
		items, err := l.store.GetBulk(ctx, keys[start:min(start+250, len(keys))])
		if err != nil {
			return nil, 0, err
		}
		for _, it := range items {
			var r claimRecord
			if it.Value == nil {
				continue // given up or expired
			}
			if err := json.Unmarshal(it.Value, &r); err != nil {
				return nil, 0, fmt.Errorf("decode %s: %w", it.Key, err)
			}
			if !r.SentAt.IsZero() {
				continue
			}
			unsent++
			if r.ClaimedAt.Before(before) {
				open = append(open, app.OpenClaim{EventID: strings.TrimPrefix(it.Key, "claim|"), Version: it.ETag, Claim: r.claim()})
			}
		}
	}
	return open, unsent, nil
}

// drop deletes the lists of minutes and takes them off claims|minutes.
func (l *StateLedger) drop(ctx context.Context, minutes []int64) error {
	if len(minutes) == 0 {
		return nil
	}
	_, err := statestore.UpdateExpiring(ctx, l.store, minutesKey, l.retention, statestore.RecordRetry, func(ms *[]int64, _ bool) (bool, error) {
		*ms = slices.DeleteFunc(*ms, func(m int64) bool { return slices.Contains(minutes, m) })
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, m := range minutes {
		if err := l.store.Delete(ctx, minuteKey(m), ""); err != nil {
			return err // listed no more: the list's own expiry removes it
		}
	}
	return nil
}

// CountDelivery adds one delivery of eventID and returns the count.
func (l *StateLedger) CountDelivery(ctx context.Context, id string) (int, error) {
	return statestore.UpdateExpiring(ctx, l.store, "deliveries|"+id, l.retention, statestore.RecordRetry, func(n *int, _ bool) (bool, error) {
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
