package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/daprshop/platform/events"
)

// JetStream keeps messages in streams that must exist before a sidecar
// publishes or subscribes, and Dapr's pubsub.jetstream component does not
// create them; its consumers are named per app, not per topic, so every
// topic needs a stream of its own (components-contrib #2385). The runner
// creates them, as an operator would once per environment (see
// components/profiles/README.md for the same streams by hand).
//
// StreamConfig is one topic's stream.
func StreamConfig(topic string) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:     StreamName(topic),
		Subjects: []string{topic},
		Storage:  jetstream.FileStorage,
		// Kept until they are a day old, whoever has read them: a subscriber
		// that was down catches up, as with the other brokers.
		Retention: jetstream.LimitsPolicy,
		MaxAge:    24 * time.Hour,
		Discard:   jetstream.DiscardOld,
		Replicas:  1,
		// The component sends the CloudEvent ID as the message ID, so a
		// republish of the same event (a dead letter replayed) would be
		// dropped as a duplicate within this window; keep it short.
		Duplicates: 100 * time.Millisecond,
	}
}

// StreamName is the stream of a topic: stream names cannot contain dots.
func StreamName(topic string) string { return strings.ReplaceAll(topic, ".", "_") }

// ensureStreams creates (or updates) a stream per topic on every NATS
// server a pubsub.jetstream component of the run uses.
func (r *Run) ensureStreams(ctx context.Context) error {
	comps, err := r.components()
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, c := range comps {
		url, _ := c.meta("natsURL")
		if c.componentType() != "pubsub.jetstream" || url == "" || done[url] {
			continue
		}
		done[url] = true
		if err := createStreams(ctx, url, events.Topics()); err != nil {
			return fmt.Errorf("JetStream streams on %s (component %s): %w", url, c.name(), err)
		}
		r.console.printf("nats: a JetStream stream per topic on %s (%d topics)\n", url, len(events.Topics()))
	}
	return nil
}

func createStreams(ctx context.Context, url string, topics []string) error {
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, t := range topics {
		if _, err := js.CreateOrUpdateStream(ctx, StreamConfig(t)); err != nil {
			return fmt.Errorf("stream %s: %w", StreamName(t), err)
		}
	}
	return nil
}
