package adapters

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/daprshop/notification/app"
	"github.com/daprshop/notification/domain"
	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/platform/sweeplist"
)

// StateLedger keeps, in a state store:
//   - claim|<event ID>: the claim to send that event's email;
//   - deliveries|<event ID>: how often the event's delivery failed;
//   - the claimed IDs per minute (sweeplist, prefix "claims"), which the
//     sweep reads to find claims left open, dropped once all are finished.
//
// Everything expires after the retention: a copy of an event delivered
// later than that would send its email again.
type StateLedger struct {
	store     *statestore.Store
	retention time.Duration
	claimed   *sweeplist.List
}

// NewStateLedger uses store; claims and counts are kept for retention.
func NewStateLedger(store *statestore.Store, retention time.Duration) *StateLedger {
	return &StateLedger{store: store, retention: retention, claimed: sweeplist.New(store, "claims", retention)}
}

func claimKey(id string) string { return "claim|" + id }

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
	if err := l.claimed.Add(ctx, id, c.ClaimedAt); err != nil {
		return nil, "", err
	}
	rec := recordOf(c)
	stored, etag, err := statestore.InsertOrGetVersioned(ctx, l.store, claimKey(id), &rec, l.retention)
	if stored == nil || err != nil {
		return nil, "", err
	}
	existing := stored.claim()
	return &existing, etag, nil
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
func (l *StateLedger) Finish(ctx context.Context, id string, c app.Claim) error {
	_, err := statestore.UpdateExpiring(ctx, l.store, claimKey(id), l.retention, statestore.RecordRetry, func(r *claimRecord, _ bool) (bool, error) {
		*r = recordOf(c)
		return true, nil
	})
	return err
}

// Release deletes the claim.
func (l *StateLedger) Release(ctx context.Context, id string) error {
	return l.store.Delete(ctx, claimKey(id), "")
}

// Open reads the claimed IDs of the minutes before `before` and answers
// their claims still open and taken before it. A minute whose claims are
// all finished (sent, given up, or expired) is dropped.
func (l *StateLedger) Open(ctx context.Context, before time.Time) ([]app.OpenClaim, error) {
	minutes, err := l.claimed.Before(ctx, before)
	if err != nil {
		return nil, err
	}
	var out []app.OpenClaim
	var finished []int64
	for _, m := range minutes {
		open, unsent, err := l.open(ctx, m.IDs, before)
		if err != nil {
			return nil, err
		}
		out = append(out, open...)
		if unsent == 0 && m.Ended(before) {
			finished = append(finished, m.At)
		}
	}
	return out, l.claimed.Drop(ctx, finished)
}

// open reads the claims of ids: those not sent and taken before `before`,
// and how many are not sent at all.
func (l *StateLedger) open(ctx context.Context, ids []string, before time.Time) (open []app.OpenClaim, unsent int, err error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = claimKey(id)
	}
	items, err := l.store.GetBulk(ctx, keys)
	if err != nil {
		return nil, 0, err
	}
	for _, it := range items {
		if it.Value == nil {
			continue // given up or expired
		}
		var r claimRecord
		if err := json.Unmarshal(it.Value, &r); err != nil {
			return nil, 0, fmt.Errorf("decode %s: %w", it.Key, err)
		}
		if !r.SentAt.IsZero() {
			continue
		}
		unsent++
		if r.ClaimedAt.Before(before) {
			open = append(open, app.OpenClaim{EventID: strings.TrimPrefix(it.Key, claimKey("")), Version: it.ETag, Claim: r.claim()})
		}
	}
	return open, unsent, nil
}

// CountDelivery adds one failed delivery of eventID and returns the count.
func (l *StateLedger) CountDelivery(ctx context.Context, id string) (int, error) {
	return statestore.UpdateExpiring(ctx, l.store, "deliveries|"+id, l.retention, statestore.RecordRetry, func(n *int, _ bool) (bool, error) {
		*n++
		return true, nil
	})
}

// Deliveries returns how often eventID's delivery failed.
func (l *StateLedger) Deliveries(ctx context.Context, id string) (int, error) {
	var n int
	_, _, err := l.store.Get(ctx, "deliveries|"+id, &n)
	return n, err
}
