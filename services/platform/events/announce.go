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

// Announce publishes e after the state change it reports has committed. The
// change stands even if publishing fails (the sidecar has already retried per
// the Resiliency spec); the failure is logged with the event ID so it can be
// found and replayed. See contracts/events.md, "Delivery guarantees".
// Publishing is detached from ctx's cancellation: a client that hangs up
// after the commit must not cancel the event.
func Announce(ctx context.Context, p publisher, e Event) {
	if err := p.Publish(context.WithoutCancel(ctx), e); err != nil {
		logging.FromContext(ctx).Error("event not published; the state change stands",
			zap.String("event_id", e.ID), zap.String("topic", e.Topic), zap.Error(err))
	}
}
