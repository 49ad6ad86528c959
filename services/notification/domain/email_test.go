package domain_test

import (
	"encoding/json"
	"errors"
	"mime"
	"net/mail"
	"sort"
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

// A name with line breaks must not add a header: the welcome email of an
// account registered before names were checked has exactly the expected
// headers, and the name is in the subject, on its one line.
func TestMessageHeadersCannotBeInjected(t *testing.T) {
	data, _ := json.Marshal(events.UserRegistered{Email: "ann@example.com", Name: "Ann\r\nBcc: eve@example.com\r\nX-Evil: 1"})
	e, err := domain.Render(events.TopicUserRegistered, data)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(strings.NewReader(e.Message("shop <no-reply@example.com>")))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range m.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != "Content-Type,From,Mime-Version,Subject,To" {
		t.Fatalf("headers %s", got)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || !strings.Contains(subject, "Bcc: eve@example.com") || strings.ContainsAny(subject, "\r\n") {
		t.Fatalf("subject %q (%v)", subject, err)
	}
	if len(m.Header["To"]) != 1 || m.Header.Get("To") != "ann@example.com" {
		t.Fatalf("To %v", m.Header["To"])
	}
	// Non-ASCII names are encoded, not sent raw.
	data, _ = json.Marshal(events.UserRegistered{Email: "zoe@example.com", Name: "Zoë"})
	e, _ = domain.Render(events.TopicUserRegistered, data)
	if msg := e.Message("shop <no-reply@example.com>"); !strings.Contains(msg, "Subject: =?utf-8?q?") {
		t.Fatalf("non-ASCII subject not encoded: %q", msg)
	}
}
