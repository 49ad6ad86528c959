package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/order/domain"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/invalid"
	"github.com/daprshop/platform/logging"
	"github.com/daprshop/platform/requestid"
	"github.com/daprshop/platform/tracecontext"
)

// Orders implements the order use cases.
type Orders struct {
	store     Store
	starts    StartList
	workflows Workflows
	events    EventPublisher
	metrics   Metrics
	now       func() time.Time
}

// NewOrders returns the use cases; m counts placed orders (nil: nothing),
// now is the clock (nil: time.Now).
func NewOrders(store Store, starts StartList, wf Workflows, pub EventPublisher, m Metrics, now func() time.Time) *Orders {
	if m == nil {
		m = noMetrics{}
	}
	if now == nil {
		now = time.Now
	}
	return &Orders{store: store, starts: starts, workflows: wf, events: pub, metrics: m, now: now}
}

// StartGrace is how old a pending order must be before the sweep starts
// its checkout: a placement in progress has finished by then (its calls
// have deadlines of seconds).
const StartGrace = time.Minute

// PlaceInput is a new order.
type PlaceInput struct {
	IdempotencyKey string
	Lines          []domain.Line
	PaymentMethod  string
}

// Place records an order and starts its checkout. The buyer is who placed
// it, never the body. A retry with the same Idempotency-Key and the same
// request returns the same order (replayed) and starts nothing new; the same
// key with another request is ErrKeyReused.
func (svc *Orders) Place(ctx context.Context, who identity.Principal, in PlaceInput) (*domain.Order, bool, error) {
	o, err := domain.NewOrder(who.UserID, who.Email, in.IdempotencyKey, in.Lines, in.PaymentMethod, svc.now())
	if err != nil {
		return nil, false, err
	}
	// Written down before it is stored: a stored order is always on a list
	// the sweep reads, whatever dies after this.
	if err := svc.starts.Add(ctx, o.ID, o.CreatedAt); err != nil {
		return nil, false, err
	}
	existing, err := svc.store.Insert(ctx, o)
	if err != nil {
		return nil, false, err
	}
	replayed := existing != nil
	if replayed {
		if existing.UserID != who.UserID || !existing.SameRequest(o) {
			return nil, false, domain.ErrKeyReused
		}
		o = existing
	}
	// Both calls are idempotent, so a retry also repairs a placement a crash
	// cut short after the insert.
	if err := svc.store.AddToUser(ctx, o.UserID, o.ID); err != nil {
		return nil, false, err
	}
	origin := Origin{RequestID: requestid.FromContext(ctx), TraceParent: tracecontext.From(ctx)}
	if _, err := svc.workflows.StartCheckout(ctx, SaleOf(o, origin), !replayed); err != nil {
		return nil, false, fmt.Errorf("start checkout of %s: %w", o.ID, err)
	}
	if !replayed {
		svc.metrics.Placed() // order.created is announced by the checkout's first step
	}
	return o, replayed, nil
}

// Get returns an order to its buyer or an admin.
func (svc *Orders) Get(ctx context.Context, who identity.Principal, id string) (*domain.Order, error) {
	o, err := svc.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !who.CanAccess(o.UserID) {
		return nil, domain.ErrNotFound // do not reveal others' order IDs
	}
	return o, nil
}

// Page is a page of a user's orders.
type Page struct {
	Items      []*domain.Order
	NextCursor string // the next page's cursor; "" on the last page
	Total      int
}

// ListByUser pages through a user's orders, newest first, for that user or an admin.
func (svc *Orders) ListByUser(ctx context.Context, who identity.Principal, userID string, limit int, cursor string) (Page, error) {
	if !who.CanAccess(userID) {
		return Page{}, domain.ErrForbidden
	}
	if limit == 0 {
		limit = 20
	}
	if limit < 1 || limit > 100 {
		return Page{}, invalid.New("limit", "must be between 1 and 100")
	}
	ids, err := svc.store.UserOrders(ctx, userID)
	if err != nil {
		return Page{}, err
	}
	start := 0
	if cursor != "" {
		// The cursor is the last order ID of the previous page: stable while
		// new orders are added at the front.
		i := slices.Index(ids, cursor)
		if i < 0 {
			return Page{}, invalid.New("cursor", "is not a cursor of this listing; start again without it")
		}
		start = i + 1
	}
	end := min(start+limit, len(ids))
	page := Page{Total: len(ids), Items: []*domain.Order{}}
	if start < end {
		orders, err := svc.store.GetMany(ctx, ids[start:end])
		if err != nil {
			return Page{}, err
		}
		page.Items = orders
	}
	if end < len(ids) {
		page.NextCursor = ids[end-1]
	}
	return page, nil
}

// Cancel asks for an order to be cancelled, by its buyer or an admin. The
// checkout compensates (refund, release) at its next step; the answer is
// the order as it stands. Cancelling twice is harmless.
func (svc *Orders) Cancel(ctx context.Context, who identity.Principal, id string) (*domain.Order, error) {
	if _, err := svc.Get(ctx, who, id); err != nil {
		return nil, err
	}
	o, err := svc.store.Update(ctx, id, func(o *domain.Order) (bool, error) {
		if o.Status == domain.StatusCancelled || o.CancelRequested {
			return false, nil
		}
		if !o.Cancellable() {
			return false, fmt.Errorf("%w: a %s order cannot be cancelled", domain.ErrTransition, o.Status)
		}
		o.CancelRequested = true
		o.UpdatedAt = svc.now().UTC()
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if o.Status != domain.StatusCancelled {
		if err := svc.workflows.Notify(ctx, id, EventCancel); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// SetStatus is an admin's status change: shipped (skips the rest of the
// fulfilment wait), delivered, or cancelled (as Cancel).
func (svc *Orders) SetStatus(ctx context.Context, who identity.Principal, id string, to domain.Status) (*domain.Order, error) {
	if !who.IsAdmin() {
		return nil, domain.ErrForbidden
	}
	o, err := svc.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if o.Status == to {
		return o, nil
	}
	if !domain.CanMove(o.Status, to) {
		return nil, fmt.Errorf("%w: %s to %s", domain.ErrTransition, o.Status, to)
	}
	switch to {
	case domain.StatusCancelled:
		return svc.Cancel(ctx, who, id)
	case domain.StatusShipped:
		// Shipping is the checkout's step; tell it to ship now.
		if err := svc.workflows.Notify(ctx, id, EventShip); err != nil {
			return nil, err
		}
		return o, nil
	case domain.StatusDelivered:
		return svc.store.Update(ctx, id, func(o *domain.Order) (bool, error) {
			return o.MoveTo(domain.StatusDelivered, svc.now(), "by "+who.UserID)
		})
	default:
		return nil, fmt.Errorf("%w: %s is set by the checkout", domain.ErrTransition, to)
	}
}

func announce(ctx context.Context, pub EventPublisher, topic string, o *domain.Order) error {
	lines := make([]events.OrderLine, len(o.Lines))
	for i, l := range o.Lines {
		lines[i] = events.OrderLine{ProductID: l.ProductID, Name: l.Name, Quantity: l.Quantity}
		if l.UnitPrice != nil {
			lines[i].UnitPrice = events.Money(*l.UnitPrice)
		}
	}
	e := events.OrderEvent{OrderID: o.ID, UserID: o.UserID, Email: o.Email, Status: string(o.Status),
		Lines: lines, Reason: o.Reason, At: o.UpdatedAt}
	if o.Total != nil {
		e.Total = events.Money(*o.Total)
	}
	return events.Announce(ctx, pub, events.Event{ID: topic + "/" + o.ID, Topic: topic, Subject: o.ID, Data: e})
}

// SweepStarts starts the checkout of every order written down more than
// StartGrace ago that is still pending without one (its placement died
// between storing it and starting the checkout). Minutes whose orders all
// have their checkout are dropped. It answers how many checkouts it
// started. (The checkout's first step announces the order as created.)
func (svc *Orders) SweepStarts(ctx context.Context) (int, error) {
	before := svc.now().Add(-StartGrace)
	minutes, err := svc.starts.Before(ctx, before)
	if err != nil {
		return 0, err
	}
	started := 0
	var done []int64
	for _, m := range minutes {
		orders, err := svc.store.GetMany(ctx, m.OrderIDs)
		if err != nil {
			return started, err
		}
		for _, o := range orders {
			if o.Status != domain.StatusPending || !o.CreatedAt.Before(before) {
				continue
			}
			began, err := svc.workflows.StartCheckout(ctx, SaleOf(o, Origin{}), false)
			if err != nil {
				return started, fmt.Errorf("start checkout of %s: %w", o.ID, err)
			}
			if began {
				started++
				logging.FromContext(ctx).Warn("started the checkout of an order whose placement died before starting it",
					zap.String("order_id", o.ID), zap.Time("created_at", o.CreatedAt))
			}
		}
		// An order missing here was never stored: its placement failed
		// before the insert, and its client got no order.
		if m.Ended {
			done = append(done, m.Minute)
		}
	}
	return started, svc.starts.Drop(ctx, done)
}
