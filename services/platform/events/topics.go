package events

import "sort"

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
