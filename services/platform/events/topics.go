// Package events holds the platform's event contracts: topics, payloads and
// the rule that an event is announced after its state change commits. It
// imports nothing of Dapr; package daprpubsub publishes them.
package events

import (
	"sort"
	"strings"
)

// TopicDeadLetters is where Dapr moves an event a subscriber could not
// handle (the subscriptions' deadLetterTopic, components/subscriptions.yaml).
const TopicDeadLetters = "deadletters"

// Topics lists every topic of the system, sorted: what a broker that needs
// its topics declared up front (NATS JetStream streams) must have.
func Topics() []string {
	t := []string{
		TopicUserRegistered, TopicUserUpdated, TopicUserDeleted,
		TopicProductCreated, TopicProductUpdated, TopicProductDeleted,
		TopicInventoryReserved, TopicInventoryReleased, TopicInventoryCommitted, TopicInventoryLowStock,
		TopicOrderCreated, TopicOrderPaid, TopicOrderShipped, TopicOrderCancelled,
		TopicPaymentCompleted, TopicPaymentFailed, TopicPaymentRefunded,
		TopicDeadLetters,
	}
	sort.Strings(t)
	return t
}

// notified are the topics the notification service subscribes to
// (components/subscriptions.yaml).
var notified = []string{TopicUserRegistered, TopicOrderPaid, TopicOrderShipped, TopicOrderCancelled, TopicPaymentRefunded}

// apps are the app IDs the pub/sub scopes name, in their order.
var apps = []string{"gateway", "user", "product", "order", "payment", "notification", "reviews"}

// Publishing is what each app may publish: its own topics. The notifier
// also republishes the topics it consumes, to replay a dead letter on its
// original topic (it is their only subscriber), and its sidecar publishes
// the dead letters. Every pub/sub component grants exactly this in
// publishingScopes, and marks all topics protectedTopics so that an app
// not listed publishes nothing (tested in topics_test.go).
func Publishing() map[string][]string {
	return map[string][]string{
		"gateway": nil,
		"user":    {TopicUserRegistered, TopicUserUpdated, TopicUserDeleted},
		"product": {TopicProductCreated, TopicProductUpdated, TopicProductDeleted,
			TopicInventoryReserved, TopicInventoryReleased, TopicInventoryCommitted, TopicInventoryLowStock},
		"order":        {TopicOrderCreated, TopicOrderPaid, TopicOrderShipped, TopicOrderCancelled},
		"payment":      {TopicPaymentCompleted, TopicPaymentFailed, TopicPaymentRefunded},
		"notification": append([]string{TopicDeadLetters}, notified...),
		"reviews":      nil,
	}
}

// Subscribing is what each app may subscribe to (subscriptionScopes).
func Subscribing() map[string][]string {
	return map[string][]string{
		"gateway": nil, "user": nil, "product": nil, "order": nil, "payment": nil,
		"notification": append(append([]string{}, notified...), TopicDeadLetters),
		// Only buyers who received a product may review it (services/reviews).
		"reviews": {TopicOrderShipped},
	}
}

// Scopes renders a Publishing or Subscribing map in the pub/sub
// component's format, apps in the order of apps: "app=t1,t2;app2=;...".
func Scopes(m map[string][]string) string {
	parts := make([]string, 0, len(apps))
	for _, app := range apps {
		parts = append(parts, app+"="+strings.Join(m[app], ","))
	}
	return strings.Join(parts, ";")
}

// CatalogChanges are the topics after which a public catalog read may
// answer differently: a product written or deleted, stock held or
// returned. (A commit turns held stock into sold stock: what is available,
// all a read shows, does not change.) The gateway's edge cache follows them.
func CatalogChanges() []string {
	return []string{TopicProductCreated, TopicProductUpdated, TopicProductDeleted,
		TopicInventoryReserved, TopicInventoryReleased}
}

// Broadcast is what each app follows through the "broadcast" pub/sub
// component, where every replica of an app gets every event (one consumer
// per sidecar) instead of the replicas sharing them: what each replica
// keeps in memory must hear of every change. Its subscriptionScopes are
// this map; nobody publishes through it.
func Broadcast() map[string][]string {
	return map[string][]string{
		"gateway": CatalogChanges(), "user": nil, "product": nil, "order": nil, "payment": nil, "notification": nil, "reviews": nil,
	}
}
