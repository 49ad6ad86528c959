package adapters

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/dapr/durabletask-go/api"
	"github.com/dapr/durabletask-go/task"
	"github.com/dapr/durabletask-go/workflow"

	"go.uber.org/zap"

	"github.com/daprshop/order/app"
	"github.com/daprshop/platform/logging"
	"github.com/daprshop/platform/requestid"
	"github.com/daprshop/platform/tracecontext"
)

// DaprWorkflows runs the checkout as a Dapr Workflow through the sidecar.
type DaprWorkflows struct {
	client *workflow.Client
}

// NewDaprWorkflows uses client.
func NewDaprWorkflows(client *workflow.Client) *DaprWorkflows { return &DaprWorkflows{client: client} }

// Register adds the checkout and its steps to r: the saga (app.Checkout)
// runs in a Dapr Workflow through daprFlow. Each step runs with the
// request ID, trace context and a logger of the request that placed the
// order (app.Origin), as if that request were still being served.
func Register(r *workflow.Registry, c *app.Checkout, retry *workflow.RetryPolicy, log *zap.Logger) error {
	if err := r.AddWorkflowN(app.CheckoutWorkflow, func(ctx *workflow.WorkflowContext) (any, error) {
		var sale app.Sale
		if err := ctx.GetInput(&sale); err != nil {
			return nil, err
		}
		return c.Run(daprFlow{ctx: ctx, retry: retry}, sale)
	}); err != nil {
		return err
	}
	for name, step := range c.Steps() {
		if err := r.AddActivityN(name, func(ctx workflow.ActivityContext) (any, error) {
			var in app.Sale
			if err := ctx.GetInput(&in); err != nil {
				return nil, err
			}
			return step(resume(ctx.Context(), log, in.OrderID, name, in.Origin), in)
		}); err != nil {
			return err
		}
	}
	return r.AddActivityN(app.StepCompensate, func(ctx workflow.ActivityContext) (any, error) {
		var in app.Compensation
		if err := ctx.GetInput(&in); err != nil {
			return nil, err
		}
		return nil, c.Compensate(resume(ctx.Context(), log, in.Sale.OrderID, app.StepCompensate, in.Sale.Origin), in)
	})
}

// daprFlow is app.Flow on a Dapr Workflow: steps are activities, retried
// by retry; compensations retry for about half an hour.
type daprFlow struct {
	ctx   *workflow.WorkflowContext
	retry *workflow.RetryPolicy
}

var undoRetry = &workflow.RetryPolicy{MaxAttempts: 30, InitialRetryInterval: time.Second, BackoffCoefficient: 2, MaxRetryInterval: time.Minute}

func (f daprFlow) Do(step string, in, out any) error {
	return f.ctx.CallActivity(step, workflow.WithActivityInput(in), workflow.WithActivityRetryPolicy(f.retry)).Await(out)
}

func (f daprFlow) Undo(step string, in any) error {
	return f.ctx.CallActivity(step, workflow.WithActivityInput(in), workflow.WithActivityRetryPolicy(undoRetry)).Await(nil)
}

func (f daprFlow) Wait(event string, timeout time.Duration) (string, bool, error) {
	var payload string
	err := f.ctx.WaitForExternalEvent(event, timeout).Await(&payload)
	if errors.Is(err, task.ErrTaskCanceled) {
		return "", false, nil // the time ran out
	}
	return payload, err == nil, err
}

func (f daprFlow) Mark(status string) { f.ctx.SetCustomStatus(status) }

// resume gives a step's context the placing request's identity.
func resume(ctx context.Context, log *zap.Logger, orderID, step string, o app.Origin) context.Context {
	if o.RequestID != "" {
		ctx = requestid.WithID(ctx, o.RequestID)
	}
	ctx = tracecontext.With(ctx, o.TraceParent)
	fields := []zap.Field{zap.String("order_id", orderID), zap.String("step", step)}
	if o.RequestID != "" {
		fields = append(fields, zap.String("request_id", o.RequestID))
	}
	if id := tracecontext.TraceID(ctx); id != "" {
		fields = append(fields, zap.String("trace_id", id))
	}
	return logging.WithLogger(ctx, log.With(fields...))
}

// StartCheckout starts the order's checkout unless an instance exists,
// running or finished: a finished checkout must never run again. For an
// order stored just now (first) there can be none, and the look is skipped.
//
// Reading an instance that a concurrent request (a retry with the same
// Idempotency-Key) is creating at that moment can fail: the sidecar reads
// the instance's metadata and its inbox separately and may see one without
// the other ("declared in metadata but missing from state store"). Such a
// read is tried again, briefly, before giving up.
func (d *DaprWorkflows) StartCheckout(ctx context.Context, sale app.Sale, first bool) (bool, error) {
	if first {
		return d.schedule(ctx, sale)
	}
	orderID := sale.OrderID
	var err error
	for attempt, wait := 0, 50*time.Millisecond; attempt < 6; attempt, wait = attempt+1, wait*2 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(wait):
			}
		}
		if _, err = d.client.FetchWorkflowMetadata(ctx, orderID); err == nil {
			return false, nil
		}
		if errors.Is(err, api.ErrInstanceNotFound) {
			break
		}
	}
	if !errors.Is(err, api.ErrInstanceNotFound) {
		return false, err
	}
	return d.schedule(ctx, sale)
}

func (d *DaprWorkflows) schedule(ctx context.Context, sale app.Sale) (bool, error) {
	_, err := d.client.ScheduleWorkflow(ctx, app.CheckoutWorkflow, workflow.WithInstanceID(sale.OrderID), workflow.WithInput(sale))
	if err != nil && strings.Contains(err.Error(), "already exists") {
		return false, nil // a concurrent retry of the same order started it
	}
	return err == nil, err
}

// Notify raises a fulfilment event on the order's checkout.
func (d *DaprWorkflows) Notify(ctx context.Context, orderID, event string) error {
	return d.client.RaiseEvent(ctx, orderID, "fulfilment", workflow.WithEventPayload(event))
}
