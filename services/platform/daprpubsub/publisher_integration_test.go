package daprpubsub_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/daprshop/platform/daprpubsub"
	"github.com/daprshop/platform/daprtest"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/requestid"
)

// TestPublishSetsCloudEventAttributes publishes through a real sidecar and
// receives through another, checking that the IDs consumers deduplicate by
// arrive as sent.
func TestPublishSetsCloudEventAttributes(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts daprd")
	}
	run := requestid.New()[:8]
	topic := "it.events." + run
	pubsub := daprtest.RedisPubSub(t, daprtest.Redis(t))

	inbox := daprtest.Subscribe(t, "it-sub-"+run, "pubsub", []string{topic}, daprtest.Options{Resources: []string{pubsub}})
	pub := daprtest.Start(t, daprtest.Options{AppID: "it-pub-" + run, Resources: []string{pubsub}})
	client, err := dapr.NewClientWithAddress(pub.GRPCAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	p := daprpubsub.NewPublisher(client, "pubsub", "it-publisher")
	if err := p.Publish(context.Background(), events.Event{ID: "thing.done/42", Topic: topic, Subject: "42", Data: map[string]int{"n": 42}}); err != nil {
		t.Fatal(err)
	}
	ce := inbox.Wait(t, 20*time.Second, func(daprtest.CloudEvent) bool { return true })
	if ce.ID != "thing.done/42" || ce.Type != topic || ce.Source != "it-publisher" || ce.Subject != "42" {
		t.Errorf("CloudEvent = %+v", ce)
	}
	var data map[string]int
	if err := json.Unmarshal(ce.Data, &data); err != nil || data["n"] != 42 {
		t.Errorf("data = %s (%v)", ce.Data, err)
	}
}
