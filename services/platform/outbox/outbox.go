// Package outbox makes an event outlive a crash or a broker outage between
// the commit of the change it reports and its publication, for changes no
// caller retries: an API request whose client may never come back. (Steps
// a workflow or a sweep retries need none of this: their retry announces
// again; see events.Announce.)
//
// Before the change, Expect writes a ticket down: its key
// (outbox|<ticket>) and its place on the current minute's to-do list
// (package sweeplist). Once the change has committed, Announce publishes
// the event and crosses the ticket off. A sweep reads the minutes that
// ended more than Grace ago: for each ticket not crossed off, it asks the
// service what the subject looks like now (Restate) and publishes that, or
// drops the ticket when the change never happened. So an event is
// published once on the happy path, and at least once whatever dies when;
// a republished event keeps its ID and consumers drop the copy.
package outbox

import (
	"context"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/logging"
	"github.com/daprshop/platform/sidecar"
	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/platform/sweeplist"
)

// SweepJob names the recurring Dapr job whose every run calls Sweep
// (OUTBOX_SWEEP in the services that have an outbox).
const SweepJob = "outbox-sweep"

// Grace is how long after its minute a ticket is left to its request: its
// calls have deadlines of seconds.
const Grace = time.Minute

// retention bounds how long a ticket is kept should no sweep ever run.
const retention = 7 * 24 * time.Hour

// Publisher publishes an event (daprpubsub.Publisher).
type Publisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// Restate answers the event that tells what the subject of expected looks
// like now, keeping expected's ID, or committed=false when the change
// expected reports was never made.
type Restate func(ctx context.Context, expected events.Event) (now events.Event, committed bool, err error)

// Outbox is one service's outbox.
type Outbox struct {
	store   *statestore.Store
	list    *sweeplist.List
	pub     Publisher
	restate Restate
	now     func() time.Time
}

// New keeps the outbox in store under outbox|.
func New(store *statestore.Store, pub Publisher, restate Restate, now func() time.Time) *Outbox {
	if now == nil {
		now = time.Now
	}
	return &Outbox{store: store, list: sweeplist.New(store, "outbox", retention), pub: pub, restate: restate, now: now}
}

// Restated is the Restate of a record announced as created, updated and
// deleted: the deletion if it is gone and a deletion was expected; nothing
// if it is there and a deletion was expected (it did not happen); its
// creation as expected; else its state now (updated), under the ID that
// state was announced with, so an update that never happened restates the
// last one: a copy consumers drop.
func Restated(expected events.Event, found bool, created, deleted string, updated func() events.Event) (events.Event, bool) {
	switch {
	case !found:
		return expected, expected.Topic == deleted
	case expected.Topic == deleted:
		return events.Event{}, false
	case expected.Topic == created:
		return expected, true
	}
	return updated(), true
}

// Ticket is an expected event written down.
type Ticket struct{ id string }

type written struct {
	Event events.Event `json:"event"`
	At    time.Time    `json:"at"`
}

func key(id string) string { return "outbox|" + id }

// Expect writes e down before the change it reports is made. e's ID may
// still change (a version the change assigns); Restate is given e as it
// was written.
func (o *Outbox) Expect(ctx context.Context, e events.Event) (Ticket, error) {
	t := Ticket{id: uuid.NewString()}
	at := o.now()
	if err := o.list.Add(ctx, t.id, at); err != nil {
		return Ticket{}, err
	}
	return t, o.store.SaveExpiring(ctx, key(t.id), written{Event: e, At: at}, "", retention)
}

// Announce publishes e, whose change has committed, and crosses t off. A
// failure is logged, not returned: the change stands, and the sweep
// publishes the event later.
func (o *Outbox) Announce(ctx context.Context, t Ticket, e events.Event) {
	if err := events.Announce(ctx, o.pub, e); err != nil {
		return // logged by Announce; the ticket stays for the sweep
	}
	o.crossOff(ctx, t)
}

// crossOff deletes t's key; if that fails, the sweep restates its subject
// (a copy consumers drop).
func (o *Outbox) crossOff(ctx context.Context, t Ticket) {
	if err := o.store.Delete(context.WithoutCancel(ctx), key(t.id), ""); err != nil {
		logging.FromContext(ctx).Warn("outbox ticket not crossed off: the sweep will restate its subject", zap.Error(err))
	}
}

// Forget crosses t off without publishing: its change changed nothing
// (cause nil) or was refused (cause, a domain error, a conflict). After an
// outage (sidecar.Unavailable) the change may have committed unseen, so t
// stays for the sweep. (Its place on the minute's list goes with the
// minute.)
func (o *Outbox) Forget(ctx context.Context, t Ticket, cause error) {
	if !sidecar.Unavailable(cause) {
		o.crossOff(ctx, t)
	}
}

// Sweep publishes what requests that died, or met a broker outage, left
// unannounced. It answers how many events it published.
func (o *Outbox) Sweep(ctx context.Context) (int, error) {
	cutoff := o.now().Add(-Grace)
	minutes, err := o.list.Before(ctx, cutoff)
	if err != nil {
		return 0, err
	}
	published := 0
	var done []int64
	for _, m := range minutes {
		if !m.Ended(cutoff) {
			continue // a ticket in it may belong to a request still running
		}
		n, err := o.sweepMinute(ctx, m.IDs)
		published += n
		if err != nil {
			return published, err
		}
		done = append(done, m.At)
	}
	return published, o.list.Drop(ctx, done)
}

// sweepMinute reads the minute's tickets in bulk: those still there were
// not announced.
func (o *Outbox) sweepMinute(ctx context.Context, ids []string) (int, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = key(id)
	}
	open, err := statestore.GetAll[written](ctx, o.store, keys)
	if err != nil {
		return 0, err
	}
	published := 0
	for k, w := range open {
		e, committed, err := o.restate(ctx, w.Event)
		if err != nil {
			return published, err
		}
		if committed {
			if err := events.Announce(ctx, o.pub, e); err != nil {
				return published, err
			}
			published++
			logging.FromContext(ctx).Warn("published an event its request left unannounced",
				zap.String("event_id", e.ID), zap.Time("expected_at", w.At))
		}
		if err := o.store.Delete(ctx, k, ""); err != nil {
			return published, err
		}
	}
	return published, nil
}
