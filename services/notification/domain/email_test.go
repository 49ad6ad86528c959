package domain_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/daprshop/notification/domain"
	"github.com/daprshop/platform/events"
)

func TestRender(t *testing.T) {
	paid, _ := json.Marshal(events.OrderEvent{OrderID: "o1", Email: "ann@example.com", Total: events.Money{Amount: 4998, Currency: "EUR"},
		Lines: []events.OrderLine{{Name: "Oak Lamp", Quantity: 2, UnitPrice: events.Money{Amount: 2499, Currency: "EUR"}}}})
	e, err := domain.Render(events.TopicOrderPaid, paid)
	if err != nil {
		t.Fatal(err)
	}
	if e.To != "ann@example.com" || e.Subject != "Order o1 is paid" || !strings.Contains(e.Body, "2 × Oak Lamp (24.99 EUR)") || !strings.Contains(e.Body, "Total: 49.98 EUR") {
		t.Fatalf("%+v", e)
	}
	for _, topic := range domain.Topics() {
		if _, err := domain.Render(topic, []byte(`{"email":"a@b.co","name":"A","orderId":"o"}`)); err != nil {
			t.Errorf("%s: %v", topic, err)
		}
	}
	for name, tc := range map[string]struct {
		topic string
		data  string
	}{
		"not JSON":      {events.TopicOrderPaid, `{`},
		"no recipient":  {events.TopicOrderShipped, `{"orderId":"o1"}`},
		"bad recipient": {events.TopicOrderShipped, `{"orderId":"o1","email":"Ann <a@b.co>"}`},
		"unknown topic": {"order.teleported", `{"email":"a@b.co"}`},
	} {
		if _, err := domain.Render(tc.topic, json.RawMessage(tc.data)); !errors.Is(err, domain.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}
