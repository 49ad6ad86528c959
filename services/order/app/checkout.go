package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dapr/durabletask-go/workflow"

	"github.com/daprshop/order/domain"
	"github.com/daprshop/platform/events"
)

// Names under which the checkout and its activities are registered. The
// workflow instance ID is the order ID.
const (
	CheckoutWorkflow = "Checkout"

	ActValidateBuyer = "ValidateBuyer"
	ActPrice         = "PriceOrder"
	ActReserve       = "ReserveStock"
	ActCharge        = "ChargePayment"
	ActCommit        = "CommitStock"
	ActMarkPaid      = "MarkPaid"
	ActShip          = "MarkShipped"
	ActCompensate    = "Compensate"
)

// Step is an activity's answer. OK false with a Reason is a business
// outcome (a decline, no stock, a cancellation) that ends the checkout in
// compensation; an error is a failure worth retrying.
type Step struct {
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
}

func done() (Step, error)                    { return Step{OK: true}, nil }
func stop(reason string) (Step, error)       { return Step{Reason: reason}, nil }
func stopf(f string, a ...any) (Step, error) { return stop(fmt.Sprintf(f, a...)) }

// Checkout is the saga: validate the buyer, price the lines from the
// catalog, reserve stock, charge, commit the stock, mark the order paid,
// then ship after the fulfilment window unless cancelled. Any step that
// fails for good, and a cancellation before shipping, compensates in
// reverse: refund what was charged, release what was held, mark cancelled.
//
// It runs as a Dapr Workflow whose instance ID is the order ID: its progress
// is durable in the sidecar's actor state store, so it resumes where it was
// after a crash of the service, its sidecar, placement or the scheduler.
// Every activity may therefore run more than once, and each is idempotent.
type Checkout struct {
	store     Store
	users     Users
	catalog   Catalog
	inventory Inventory
	payments  Payments
	events    EventPublisher
	cfg       CheckoutConfig
	now       func() time.Time
}

// CheckoutConfig holds the saga's tunables.
type CheckoutConfig struct {
	// Fulfilment is how long a paid order waits before it ships (and may
	// still be cancelled meanwhile): the simulated warehouse.
	Fulfilment time.Duration
	// ReservationTTL is how long stock is held for an unpaid order.
	ReservationTTL time.Duration
	// Retry applies to every step; transient failures past it compensate.
	Retry *workflow.RetryPolicy
	// Metrics counts payments, shipments and cancellations; nil counts nothing.
	Metrics Metrics
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
func NewCheckout(store Store, users Users, catalog Catalog, inv Inventory, pay Payments, pub EventPublisher, cfg CheckoutConfig) *Checkout {
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	return &Checkout{store: store, users: users, catalog: catalog, inventory: inv, payments: pay, events: pub, cfg: cfg, now: time.Now}
}

// paymentSteps run in turn until the order is paid; ActShip follows the
// fulfilment window.
var paymentSteps = []string{ActValidateBuyer, ActPrice, ActReserve, ActCharge, ActCommit, ActMarkPaid}

// Run is the workflow. It must be deterministic: all I/O is in activities.
func (c *Checkout) Run(ctx *workflow.WorkflowContext) (any, error) {
	var in CheckoutInput
	if err := ctx.GetInput(&in); err != nil {
		return nil, err
	}
	orderID := in.OrderID
	call := func(activity string) (Step, error) {
		var s Step
		err := ctx.CallActivity(activity, workflow.WithActivityInput(in),
			workflow.WithActivityRetryPolicy(c.cfg.Retry)).Await(&s)
		return s, err
	}
	compensate := func(reason, cause string) (any, error) {
		return c.compensate(ctx, Compensation{OrderID: orderID, Reason: reason, Cause: cause, Origin: in.Origin})
	}
	// run runs a step; when it fails or refuses, the saga compensates and
	// stopped is true, with the compensation's result.
	run := func(step string) (stopped bool, res any, err error) {
		s, err := call(step)
		switch {
		case err != nil:
			res, err = compensate(fmt.Sprintf("%s failed: %v", step, err), step+"-failed")
			return true, res, err
		case !s.OK:
			res, err = compensate(s.Reason, stoppedAt(step, s))
			return true, res, err
		}
		return false, nil, nil
	}
	for _, step := range paymentSteps {
		if stopped, res, err := run(step); stopped {
			return res, err
		}
		ctx.SetCustomStatus(step)
	}

	// Fulfilment: ship when the window ends, or at once on an admin's
	// "ship"; a cancellation meanwhile compensates.
	var event string
	if err := ctx.WaitForExternalEvent("fulfilment", c.cfg.Fulfilment).Await(&event); err == nil && event == EventCancel {
		return compensate(cancelledOnRequest, CauseRequested)
	}
	if stopped, res, err := run(ActShip); stopped {
		return res, err
	}
	return string(domain.StatusShipped), nil
}

// compensate undoes the saga. It retries for long: giving up would leave
// money taken or stock held.
func (c *Checkout) compensate(ctx *workflow.WorkflowContext, in Compensation) (any, error) {
	orderID := in.OrderID
	ctx.SetCustomStatus("compensating")
	err := ctx.CallActivity(ActCompensate, workflow.WithActivityInput(in),
		workflow.WithActivityRetryPolicy(&workflow.RetryPolicy{
			MaxAttempts: 30, InitialRetryInterval: time.Second, BackoffCoefficient: 2, MaxRetryInterval: time.Minute,
		})).Await(nil)
	if err != nil {
		return nil, fmt.Errorf("compensation of %s failed, operator action needed: %w", orderID, err)
	}
	return string(domain.StatusCancelled), nil
}

// Activities, by name, for registration.
func (c *Checkout) Activities() map[string]func(context.Context, string) (Step, error) {
	return map[string]func(context.Context, string) (Step, error){
		ActValidateBuyer: c.validateBuyer,
		ActPrice:         c.price,
		ActReserve:       c.reserve,
		ActCharge:        c.charge,
		ActCommit:        c.commit,
		ActMarkPaid:      c.markPaid,
		ActShip:          c.ship,
	}
}

func (c *Checkout) validateBuyer(ctx context.Context, orderID string) (Step, error) {
	o, err := c.store.Get(ctx, orderID)
	if err != nil {
		return Step{}, err
	}
	ok, err := c.users.Exists(ctx, o.UserID)
	if err != nil {
		return Step{}, err
	}
	if !ok {
		return stop("the buyer's account no longer exists")
	}
	return done()
}

// price takes prices from the catalog once: a retry keeps the first prices.
func (c *Checkout) price(ctx context.Context, orderID string) (Step, error) {
	o, err := c.store.Get(ctx, orderID)
	if err != nil {
		return Step{}, err
	}
	if o.Total != nil {
		return done()
	}
	priced := make([]domain.Line, len(o.Lines))
	var total domain.Money
	for i, l := range o.Lines {
		p, found, err := c.catalog.Price(ctx, l.ProductID)
		if err != nil {
			return Step{}, err
		}
		if !found {
			return stopf("product %s does not exist", l.ProductID)
		}
		if total.Currency == "" {
			total.Currency = p.Price.Currency
		}
		if p.Price.Currency != total.Currency {
			return stopf("the order mixes currencies (%s and %s)", total.Currency, p.Price.Currency)
		}
		price := p.Price
		priced[i] = domain.Line{ProductID: l.ProductID, Name: p.Name, Quantity: l.Quantity, UnitPrice: &price}
		total.Amount += p.Price.Amount * l.Quantity
	}
	_, err = c.store.Update(ctx, orderID, func(o *domain.Order) (bool, error) {
		if o.Total != nil {
			return false, nil
		}
		o.Lines, o.Total, o.UpdatedAt = priced, &total, c.now().UTC()
		return true, nil
	})
	if err != nil {
		return Step{}, err
	}
	return done()
}

func (c *Checkout) reserve(ctx context.Context, orderID string) (Step, error) {
	o, err := c.store.Get(ctx, orderID)
	if err != nil {
		return Step{}, err
	}
	if o.CancelRequested {
		return stop(cancelledOnRequest)
	}
	ok, reason, err := c.inventory.Reserve(ctx, orderID, o.Lines, c.cfg.ReservationTTL)
	if err != nil {
		return Step{}, err
	}
	if !ok {
		return stop(reason)
	}
	return c.move(ctx, orderID, domain.StatusReserved, "stock held")
}

func (c *Checkout) charge(ctx context.Context, orderID string) (Step, error) {
	o, err := c.store.Get(ctx, orderID)
	if err != nil {
		return Step{}, err
	}
	if o.CancelRequested {
		return stop(cancelledOnRequest)
	}
	paymentID, ok, reason, err := c.payments.Charge(ctx, o)
	if err != nil {
		return Step{}, err
	}
	if paymentID != "" {
		if _, err := c.store.Update(ctx, orderID, func(o *domain.Order) (bool, error) {
			changed := o.PaymentID != paymentID
			o.PaymentID = paymentID
			return changed, nil
		}); err != nil {
			return Step{}, err
		}
	}
	if !ok {
		return stopf("payment declined: %s", reason)
	}
	return done()
}

func (c *Checkout) commit(ctx context.Context, orderID string) (Step, error) {
	if err := c.inventory.Commit(ctx, orderID); err != nil {
		return Step{}, err
	}
	return done()
}

func (c *Checkout) markPaid(ctx context.Context, orderID string) (Step, error) {
	return c.move(ctx, orderID, domain.StatusPaid, "charged")
}

func (c *Checkout) ship(ctx context.Context, orderID string) (Step, error) {
	return c.move(ctx, orderID, domain.StatusShipped, "handed to the carrier")
}

// move records a status the checkout reached, unless a cancellation was
// asked for first, and announces it.
func (c *Checkout) move(ctx context.Context, orderID string, to domain.Status, note string) (Step, error) {
	moved := false
	o, err := c.store.Update(ctx, orderID, func(o *domain.Order) (bool, error) {
		if o.CancelRequested {
			return false, nil
		}
		changed, err := o.MoveTo(to, c.now(), note)
		moved = changed
		return changed, err
	})
	if err != nil {
		return Step{}, err
	}
	if o.CancelRequested && o.Status != to {
		return stop(cancelledOnRequest)
	}
	if moved {
		switch to {
		case domain.StatusPaid:
			c.cfg.Metrics.Paid()
		case domain.StatusShipped:
			c.cfg.Metrics.Shipped(o.CreatedAt, o.UpdatedAt)
		}
	}
	switch to {
	case domain.StatusPaid:
		announce(ctx, c.events, events.TopicOrderPaid, o)
	case domain.StatusShipped:
		announce(ctx, c.events, events.TopicOrderShipped, o)
	}
	return done()
}

// Compensation is the input of the Compensate activity.
type Compensation struct {
	OrderID string `json:"orderId"`
	Reason  string `json:"reason"`
	// Cause is the reason in a few words for metrics: the step that stopped
	// the saga, with "-failed" when it failed rather than refused, or
	// "requested"; empty in checkouts started before it existed.
	Cause string `json:"cause,omitempty"`
	Origin
}

// Origin is the request that placed the order: its request ID and W3C
// trace context go with every step, so the calls and events of a checkout
// are logged and traced as that request's.
type Origin struct {
	RequestID   string `json:"requestId,omitempty"`
	TraceParent string `json:"traceparent,omitempty"`
}

// CheckoutInput is the input of the checkout workflow and of its steps.
type CheckoutInput struct {
	OrderID string `json:"orderId"`
	Origin
}

// UnmarshalJSON also reads the bare order ID that checkouts started before
// Origin existed carry.
func (in *CheckoutInput) UnmarshalJSON(b []byte) error {
	var id string
	if json.Unmarshal(b, &id) == nil {
		*in = CheckoutInput{OrderID: id}
		return nil
	}
	type plain CheckoutInput
	return json.Unmarshal(b, (*plain)(in))
}

// CauseRequested is the cause of a cancellation the buyer or an admin asked for.
const CauseRequested = "requested"

const cancelledOnRequest = "cancelled on request"

// Causes lists every cause Compensation.Cause can hold (so metrics can
// show each at zero before it first happens).
func Causes() []string {
	out := []string{CauseRequested, "other"}
	for _, step := range append(slices.Clone(paymentSteps), ActShip) {
		out = append(out, step, step+"-failed")
	}
	return out
}

// stoppedAt names why a step stopped the saga, for metrics.
func stoppedAt(step string, s Step) string {
	if s.Reason == cancelledOnRequest {
		return CauseRequested
	}
	return step
}

// Compensate refunds the charge, releases the stock (held or committed) and
// marks the order cancelled. Each part is idempotent, so the whole is.
func (c *Checkout) Compensate(ctx context.Context, in Compensation) error {
	o, err := c.store.Get(ctx, in.OrderID)
	if err != nil {
		return err
	}
	if o.PaymentID != "" {
		if err := c.payments.Refund(ctx, o.PaymentID, "cancel-"+o.ID); err != nil && !errors.Is(err, ErrNothingToRefund) {
			return err
		}
	}
	if err := c.inventory.Release(ctx, o.ID); err != nil {
		return err
	}
	cancelled := false
	o, err = c.store.Update(ctx, in.OrderID, func(o *domain.Order) (bool, error) {
		if o.Status == domain.StatusCancelled {
			return false, nil
		}
		o.Reason = in.Reason
		changed, err := o.MoveTo(domain.StatusCancelled, c.now(), in.Reason)
		cancelled = changed
		return changed, err
	})
	if err != nil {
		return err
	}
	if cancelled {
		c.cfg.Metrics.Cancelled(cmp.Or(in.Cause, "other"))
	}
	announce(ctx, c.events, events.TopicOrderCancelled, o)
	return nil
}

// ErrNothingToRefund means everything the payment took has been given back
// already. (A declined payment's refund succeeds: nothing was taken.)
var ErrNothingToRefund = errors.New("nothing to refund")
