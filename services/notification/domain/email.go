// Package domain renders the emails the platform sends for its events.
package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"text/template"
	"unicode"

	"github.com/daprshop/platform/events"
)

// ErrMalformed marks an event that can never be turned into an email: its
// data does not decode, or it has no recipient. Retrying cannot help.
var ErrMalformed = errors.New("malformed event")

// Email is one message to send.
type Email struct {
	To      string
	Subject string
	Body    string
}

// Message renders the email as a plain-text message with headers. Header
// values from events (the subject holds a user's name) are RFC 2047
// encoded and cannot break a line, so no data can add a header.
func (e Email) Message(from string) string {
	return fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s",
		headerValue(from), headerValue(e.To), headerValue(e.Subject), e.Body)
}

// headerValue makes s safe as one header line: control characters (line
// breaks included) become spaces, and non-ASCII text is Q-encoded.
func headerValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return mime.QEncoding.Encode("utf-8", s)
}

type tmpl struct {
	subject *template.Template
	body    *template.Template
}

var funcs = template.FuncMap{"money": money}

func must(subject, body string) tmpl {
	return tmpl{template.Must(template.New("s").Parse(subject)), template.Must(template.New("b").Funcs(funcs).Parse(body))}
}

func money(m events.Money) string {
	return fmt.Sprintf("%d.%02d %s", m.Amount/100, m.Amount%100, m.Currency)
}

// templates, one per topic the notifier subscribes to.
var templates = map[string]tmpl{
	events.TopicUserRegistered: must(`Welcome to daprshop, {{.Name}}`,
		"Hello {{.Name}},\n\nyour account {{.Email}} is ready. Happy shopping!\n\n— daprshop\n"),
	events.TopicOrderPaid: must(`Order {{.OrderID}} is paid`,
		"Thank you for your order {{.OrderID}}.\n\n{{range .Lines}}  {{.Quantity}} × {{.Name}} ({{money .UnitPrice}})\n{{end}}\nTotal: {{money .Total}}\n\nWe will let you know when it ships.\n— daprshop\n"),
	events.TopicOrderShipped: must(`Order {{.OrderID}} has shipped`,
		"Good news: your order {{.OrderID}} is on its way.\n\n— daprshop\n"),
	events.TopicOrderCancelled: must(`Order {{.OrderID}} was cancelled`,
		"Your order {{.OrderID}} was cancelled: {{.Reason}}.\nAnything charged is refunded and nothing more will be taken.\n\n— daprshop\n"),
	events.TopicPaymentRefunded: must(`Refund for order {{.OrderID}}`,
		"We refunded {{money .Refunded}} of the {{money .Amount}} paid for order {{.OrderID}}.\nIt reaches your account within a few days.\n\n— daprshop\n"),
}

// Topics are the topics the notifier renders emails for.
func Topics() []string {
	out := make([]string, 0, len(templates))
	for t := range templates {
		out = append(out, t)
	}
	return out
}

// Render turns an event's data into an email.
func Render(topic string, data json.RawMessage) (Email, error) {
	t, ok := templates[topic]
	if !ok {
		return Email{}, fmt.Errorf("%w: no template for topic %q", ErrMalformed, topic)
	}
	var payload any
	var to string
	switch topic {
	case events.TopicUserRegistered:
		var d events.UserRegistered
		if err := json.Unmarshal(data, &d); err != nil {
			return Email{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		payload, to = d, d.Email
	case events.TopicPaymentRefunded:
		var d events.PaymentEvent
		if err := json.Unmarshal(data, &d); err != nil {
			return Email{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		payload, to = d, d.Email
	default:
		var d events.OrderEvent
		if err := json.Unmarshal(data, &d); err != nil {
			return Email{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		payload, to = d, d.Email
	}
	if a, err := mail.ParseAddress(to); err != nil || a.Address != to {
		return Email{}, fmt.Errorf("%w: recipient %q is not an email address", ErrMalformed, to)
	}
	var subject, body bytes.Buffer
	if err := t.subject.Execute(&subject, payload); err != nil {
		return Email{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := t.body.Execute(&body, payload); err != nil {
		return Email{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return Email{To: to, Subject: strings.Join(strings.Fields(subject.String()), " "), Body: body.String()}, nil
}
