package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/daprshop/order/domain"
	"github.com/daprshop/platform/events"
)

// Names under which the checkout and its steps are registered. The
// workflow instance ID is the order ID.
const (
	CheckoutWorkflow = "Checkout"

	// StepReserve checks the buyer, prices every line and holds the stock
	// (one call to the product service does both), and records the order
	// reserved with its prices.
	StepReserve = "Reserve"
	// StepPay charges the order, then commits the stock and records the
	// order paid.
	StepPay = "Pay"
	// StepShip records the order shipped.
	StepShip = "Ship"
	// StepCompensate refunds, releases and records the order cancelled.
	StepCompensate = "Compensate"
)

// paymentSteps run in turn until the order is paid; StepShip follows the
// fulfilment window.
var paymentSteps = []string{StepReserve, StepPay}

// Flow is what the checkout needs of a durable workflow engine. The saga
// below is plain Go on top of it: adapters host it in a Dapr Workflow, and
// unit tests drive every branch with a Flow of their own.
type Flow interface {
	// Do runs the step registered under name with in and decodes its answer
	// into out. The engine records the answer durably and retries errors by
	// its step policy; an error here means the step failed for good.
	Do(step string, in, out any) error
	// Undo runs a compensating step, retried for long: giving up would
	// leave money taken or stock held.
	Undo(step string, in any) error
	// Wait waits up to timeout for an event raised on this checkout;
	// received is false when the time ran out.
	Wait(event string, timeout time.Duration) (payload string, received bool, err error)
	// Mark says where the checkout is, for operators.
	Mark(status string)
}

// Sale is the order's data as the checkout carries it from step to step,
// so that no step reads the order back to learn what an earlier one did.
type Sale struct {
	OrderID       string        `json:"orderId"`
	UserID        string        `json:"userId"`
	Email         string        `json:"email,omitempty"`
	PaymentMethod string        `json:"paymentMethod"`
	Lines         []domain.Line `json:"lines"`
	Total         *domain.Money `json:"total,omitempty"`
	PaymentID     string        `json:"paymentId,omitempty"`
	CreatedAt     time.Time     `json:"createdAt,omitzero"`
	Origin
}

// SaleOf is the checkout's input for a placed order.
func SaleOf(o *domain.Order, origin Origin) Sale {
	return Sale{OrderID: o.ID, UserID: o.UserID, Email: o.Email, PaymentMethod: o.PaymentMethod,
		Lines: o.Lines, Total: o.Total, PaymentID: o.PaymentID, CreatedAt: o.CreatedAt, Origin: origin}
}

// placed is the order as it was placed, for its order.created event.
func (s Sale) placed() *domain.Order {
	return &domain.Order{ID: s.OrderID, UserID: s.UserID, Email: s.Email, PaymentMethod: s.PaymentMethod,
		Lines: s.Lines, Total: s.Total, Status: domain.StatusPending, CreatedAt: s.CreatedAt, UpdatedAt: s.CreatedAt}
}

// Origin is the request that placed the order: its request ID and W3C
// trace context go with every step, so the calls and events of a checkout
// are logged and traced as that request's.
type Origin struct {
	RequestID   string `json:"requestId,omitempty"`
	TraceParent string `json:"traceparent,omitempty"`
}

// Outcome is a step's answer. OK false with a Reason is a business outcome
// (a decline, no stock, a cancellation) that ends the checkout in
// compensation; an error is a failure worth retrying. Sale is the input
// with what the step learned (prices, the payment).
type Outcome struct {
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
	Sale   Sale   `json:"sale"`
}

// Compensation is the input of StepCompensate.
type Compensation struct {
	Sale   Sale   `json:"sale"`
	Reason string `json:"reason"`
	// Cause is the reason in a few words for metrics: the step that stopped
	// the saga, with "-failed" when it failed rather than refused, or
	// "requested".
	Cause string `json:"cause,omitempty"`
	// Charged is true once the saga has reached the payment: the
	// compensation then refunds whatever the order's payment took (nothing,
	// for a decline or a charge that never happened).
	Charged bool `json:"charged,omitempty"`
}

// Checkout is the saga: check the buyer, price and reserve, charge, commit
// the stock and record the order paid, then ship after the fulfilment
// window unless cancelled. A step that fails for good, and a cancellation
// before shipping, compensates in reverse: refund what was charged,
// release what was held, mark cancelled.
//
// Hosted in a Dapr Workflow whose instance ID is the order ID, its
// progress is durable in the sidecar's actor state store, so it resumes
// where it was after a crash of the service, its sidecar, placement or the
// scheduler. Every step may therefore run more than once, and each is
// idempotent.
type Checkout struct {
	store     Store
	users     Users
	inventory Inventory
	payments  Payments
	events    EventPublisher
	cfg       CheckoutConfig
}

// Services are the other services as the checkout needs them.
type Services interface {
	Users
	Inventory
	Payments
}

// CheckoutConfig holds the saga's tunables.
type CheckoutConfig struct {
	// Fulfilment is how long a paid order waits before it ships (and may
	// still be cancelled meanwhile): the simulated warehouse.
	Fulfilment time.Duration
	// ReservationTTL is how long stock is held for an unpaid order.
	ReservationTTL time.Duration
	// Metrics counts payments, shipments and cancellations; nil counts nothing.
	Metrics Metrics
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Metrics counts what happens to orders, for the business dashboard. Each
// call is made once per order and transition, however often a step is retried.
type Metrics interface {
	Placed()
	Paid()
	Shipped(placedAt, shippedAt time.Time)
	Cancelled(cause string)
}

type noMetrics struct{}

func (noMetrics) Placed()                {}
func (noMetrics) Paid()                  {}
func (noMetrics) Shipped(_, _ time.Time) {}
func (noMetrics) Cancelled(cause string) {}

// NewCheckout returns the saga.
func NewCheckout(store Store, services Services, pub EventPublisher, cfg CheckoutConfig) *Checkout {
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Checkout{store: store, users: services, inventory: services, payments: services, events: pub, cfg: cfg}
}

// Run is the saga's control flow; the Flow makes it durable. It must be
// deterministic: all I/O is in steps. It answers the order's final status.
func (c *Checkout) Run(f Flow, sale Sale) (string, error) {
	for _, name := range paymentSteps {
		next, stop := runStep(f, name, sale)
		if stop != nil {
			return c.undo(f, *stop)
		}
		sale = next
		f.Mark(name)
	}

	// Fulfilment: ship when the window ends, or at once on an admin's
	// "ship"; a cancellation meanwhile compensates.
	event, _, err := f.Wait("fulfilment", c.cfg.Fulfilment)
	if err != nil {
		return "", err
	}
	if event == EventCancel {
		return c.undo(f, Compensation{Sale: sale, Reason: cancelledOnRequest, Cause: CauseRequested, Charged: true})
	}
	if _, stop := runStep(f, StepShip, sale); stop != nil {
		return c.undo(f, *stop)
	}
	return string(domain.StatusShipped), nil
}

// runStep runs one step. When it fails for good or refuses, stop is the
// compensation to run. From the payment on, a charge may have happened
// even when the step's answer does not say so (a re-run after a crash finds
// the order cancelled and stops before charging again), so the
// compensation refunds.
func runStep(f Flow, name string, sale Sale) (next Sale, stop *Compensation) {
	charged := name != StepReserve
	var out Outcome
	if err := f.Do(name, sale, &out); err != nil {
		return sale, &Compensation{Sale: sale, Reason: fmt.Sprintf("%s failed: %v", name, err), Cause: name + "-failed", Charged: charged}
	}
	if !out.OK {
		return out.Sale, &Compensation{Sale: out.Sale, Reason: out.Reason, Cause: stoppedAt(name, out), Charged: charged}
	}
	return out.Sale, nil
}

func (c *Checkout) undo(f Flow, in Compensation) (string, error) {
	f.Mark("compensating")
	if err := f.Undo(StepCompensate, in); err != nil {
		return "", fmt.Errorf("compensation of %s failed, operator action needed: %w", in.Sale.OrderID, err)
	}
	return string(domain.StatusCancelled), nil
}

// Steps, by name, for registration.
func (c *Checkout) Steps() map[string]func(context.Context, Sale) (Outcome, error) {
	return map[string]func(context.Context, Sale) (Outcome, error){
		StepReserve: c.reserve,
		StepPay:     c.pay,
		StepShip:    c.ship,
	}
}

func done(s Sale) (Outcome, error)                { return Outcome{OK: true, Sale: s}, nil }
func stop(s Sale, reason string) (Outcome, error) { return Outcome{Reason: reason, Sale: s}, nil }

// reserve checks the buyer while the product service prices the lines and
// holds their stock, then records the order reserved with its prices. A
// retry gets the first prices: the reservation keeps them.
func (c *Checkout) reserve(ctx context.Context, s Sale) (Outcome, error) {
	// The order is announced as created here, from the step's input, and
	// again by every retry: the step, unlike the request that placed the
	// order, is retried until it succeeds, so the announcement cannot be
	// lost between the order's insert and a crash.
	if err := announce(ctx, c.events, events.TopicOrderCreated, s.placed()); err != nil {
		return Outcome{}, err
	}
	var (
		wg        sync.WaitGroup
		exists    bool
		existsErr error
	)
	wg.Go(func() { exists, existsErr = c.users.Exists(ctx, s.UserID) })
	priced, held, reason, reserveErr := c.inventory.Reserve(ctx, s.OrderID, s.Lines, c.cfg.ReservationTTL)
	wg.Wait()
	if err := errors.Join(existsErr, reserveErr); err != nil {
		return Outcome{}, err
	}
	switch {
	case !exists:
		return stop(s, "the buyer's account no longer exists")
	case !held:
		return stop(s, reason)
	}
	total, err := domain.Total(priced)
	if errors.Is(err, domain.ErrMixedCurrencies) {
		return stop(s, err.Error())
	}
	if err != nil {
		return Outcome{}, err
	}
	s.Lines, s.Total = priced, &total
	return c.move(ctx, s, domain.StatusReserved, "stock held", func(o *domain.Order) {
		o.Lines, o.Total = priced, &total
	})
}

// pay charges the order unless a cancellation came first; once charged, it
// commits the stock while it records the order paid.
func (c *Checkout) pay(ctx context.Context, s Sale) (Outcome, error) {
	o, err := c.store.Get(ctx, s.OrderID)
	if err != nil {
		return Outcome{}, err
	}
	if o.CancelRequested {
		return stop(s, cancelledOnRequest)
	}
	paymentID, ok, reason, err := c.payments.Charge(ctx, s)
	if err != nil {
		return Outcome{}, err
	}
	s.PaymentID = paymentID
	if !ok {
		return stop(s, "payment declined: "+reason)
	}
	var commitErr error
	var wg sync.WaitGroup
	wg.Go(func() { commitErr = c.inventory.Commit(ctx, s.OrderID) })
	out, err := c.move(ctx, s, domain.StatusPaid, "charged", func(o *domain.Order) { o.PaymentID = paymentID })
	wg.Wait()
	if err := errors.Join(err, commitErr); err != nil {
		return Outcome{}, err
	}
	return out, nil
}

func (c *Checkout) ship(ctx context.Context, s Sale) (Outcome, error) {
	return c.move(ctx, s, domain.StatusShipped, "handed to the carrier", nil)
}

// move records a status the checkout reached, with what the step learned
// (also), unless a cancellation was asked for first, and announces it.
func (c *Checkout) move(ctx context.Context, s Sale, to domain.Status, note string, also func(*domain.Order)) (Outcome, error) {
	moved := false
	o, err := c.store.Update(ctx, s.OrderID, func(o *domain.Order) (bool, error) {
		if o.CancelRequested {
			return false, nil
		}
		changed, err := o.MoveTo(to, c.cfg.Now(), note)
		if changed && also != nil {
			also(o)
		}
		moved = changed
		return changed, err
	})
	if err != nil {
		return Outcome{}, err
	}
	if o.CancelRequested && o.Status != to {
		return stop(s, cancelledOnRequest)
	}
	if moved {
		switch to {
		case domain.StatusPaid:
			c.cfg.Metrics.Paid()
		case domain.StatusShipped:
			c.cfg.Metrics.Shipped(o.CreatedAt, o.UpdatedAt)
		}
	}
	// Announced on every run, not only the one that moved the order: a
	// retry after a failed publish announces what the first run committed.
	topic := map[domain.Status]string{domain.StatusPaid: events.TopicOrderPaid, domain.StatusShipped: events.TopicOrderShipped}[to]
	if topic != "" {
		if err := announce(ctx, c.events, topic, o); err != nil {
			return Outcome{}, err
		}
	}
	return done(s)
}

// CauseRequested is the cause of a cancellation the buyer or an admin asked for.
const CauseRequested = "requested"

const cancelledOnRequest = "cancelled on request"

// Causes lists every cause Compensation.Cause can hold (so metrics can
// show each at zero before it first happens).
func Causes() []string {
	out := []string{CauseRequested, "other"}
	for _, step := range append(slices.Clone(paymentSteps), StepShip) {
		out = append(out, step, step+"-failed")
	}
	return out
}

// stoppedAt names why a step stopped the saga, for metrics.
func stoppedAt(step string, out Outcome) string {
	if out.Reason == cancelledOnRequest {
		return CauseRequested
	}
	return step
}

// Compensate refunds the order's payment once it was charged, releases the
// stock (held or committed) and marks the order cancelled. Each part is
// idempotent, so the whole is.
func (c *Checkout) Compensate(ctx context.Context, in Compensation) error {
	id := in.Sale.OrderID
	if in.Charged {
		if err := c.payments.Refund(ctx, id, "cancel-"+id); err != nil && !errors.Is(err, ErrNothingToRefund) {
			return err
		}
	}
	if err := c.inventory.Release(ctx, id); err != nil {
		return err
	}
	cancelled := false
	o, err := c.store.Update(ctx, id, func(o *domain.Order) (bool, error) {
		if o.Status == domain.StatusCancelled {
			return false, nil
		}
		o.Reason = in.Reason
		o.PaymentID = cmp.Or(o.PaymentID, in.Sale.PaymentID)
		changed, err := o.MoveTo(domain.StatusCancelled, c.cfg.Now(), in.Reason)
		cancelled = changed
		return changed, err
	})
	if err != nil {
		return err
	}
	if cancelled {
		c.cfg.Metrics.Cancelled(cmp.Or(in.Cause, "other"))
	}
	return announce(ctx, c.events, events.TopicOrderCancelled, o)
}

// ErrNothingToRefund means the order's payment has nothing left to give
// back: it never took anything, or was refunded already.
var ErrNothingToRefund = errors.New("nothing to refund")
