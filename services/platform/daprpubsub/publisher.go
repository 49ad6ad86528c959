// Package daprpubsub publishes the platform's events (package events)
// through the Dapr pub/sub API as CloudEvents. It is the only place that
// ties the event contracts to Dapr.
package daprpubsub

import (
	"context"
	"fmt"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/sidecar"
	"github.com/daprshop/platform/tracecontext"
)

// daprPublisher is the part of the go-sdk client that publishes.
type daprPublisher interface {
	PublishEvent(ctx context.Context, pubsubName, topicName string, data any, opts ...dapr.PublishEventOption) error
}

// Publisher publishes events to one pub/sub component.
type Publisher struct {
	client  daprPublisher
	pubsub  string
	source  string
	timeout time.Duration
}

// NewPublisher publishes to the pub/sub component named pubsub; source is the
// CloudEvent source (the service's app ID).
func NewPublisher(client daprPublisher, pubsub, source string) *Publisher {
	return &Publisher{client: client, pubsub: pubsub, source: source, timeout: 5 * time.Second}
}

// Publish sends e as JSON inside a CloudEvent whose id, type, source and
// subject are set from e (the sidecar fills in the rest, including trace
// context). Retries are the sidecar's job, declared in the Resiliency spec.
func (p *Publisher) Publish(ctx context.Context, e events.Event) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	meta := map[string]string{
		"cloudevent.id":     e.ID,
		"cloudevent.type":   e.Topic,
		"cloudevent.source": p.source,
	}
	if e.Subject != "" {
		meta["cloudevent.subject"] = e.Subject
	}
	err := p.client.PublishEvent(tracecontext.OutgoingGRPC(ctx), p.pubsub, e.Topic, e.Data,
		dapr.PublishEventWithContentType("application/json"),
		dapr.PublishEventWithMetadata(meta))
	if err != nil {
		// The broker did not take it: the caller's retry may succeed, so
		// HTTP ports answer 503 (sidecar.ErrUnavailable).
		return fmt.Errorf("publish %s (id %s) to %s: %w: %w", e.Topic, e.ID, p.pubsub, sidecar.ErrUnavailable, err)
	}
	return nil
}
