package events

import (
	"context"

	"go.uber.org/zap"

	"github.com/daprshop/platform/logging"
)

// Event is one domain event on its way to a topic. The topic is also the
// CloudEvent type. ID must be the same every time the same fact is published
// (for example "user.registered/<user id>"), so consumers can drop redeliveries
// and republished copies by CloudEvent id.
type Event struct {
	ID      string
	Topic   string
	Subject string
	Data    any
}

// publisher is anything that publishes an Event (Publisher, or a test fake).
type publisher interface {
	Publish(ctx context.Context, e Event) error
}

// Announce publishes e after the state change it reports has committed.
// The change stands even if publishing fails (the sidecar has already
// retried per the Resiliency spec), so the error is the caller's to act
// on: a step that a durable caller retries (a workflow activity, a sweep)
// fails, and its retry finds the change made and announces it again under
// the same event ID, which consumers drop as a duplicate. That is how an
// event outlives a crash or a broker outage between commit and publish;
// see the README's "Failure model". Publishing is detached from ctx's
// cancellation: a client that hangs up after the commit must not cancel
// the event.
func Announce(ctx context.Context, p publisher, e Event) error {
	if err := p.Publish(context.WithoutCancel(ctx), e); err != nil {
		logging.FromContext(ctx).Warn("event not published yet; the state change stands and its step will announce it again",
			zap.String("event_id", e.ID), zap.String("topic", e.Topic), zap.Error(err))
		return err
	}
	return nil
}
