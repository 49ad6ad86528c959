// Package adapters implements the notifier's interfaces on Dapr: an output
// binding for email (email.go), a state store for the ledger (ledger.go)
// and the dead letters (deadletters.go), pub/sub for replays
// (republisher.go).
package adapters

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/daprshop/notification/domain"
)

// Email formats of the binding.
const (
	// FormatFile: the whole message (headers and body) is the data, named by
	// fileName; for bindings.localstorage (the local outbox folder).
	FormatFile = "file"
	// FormatSMTP: the body is the data, with emailTo, emailFrom and subject
	// as metadata; for bindings.smtp.
	FormatSMTP = "smtp"
	// FormatAuto: the format of the binding's type, asked of the sidecar
	// (its metadata API) before the first email, so that swapping
	// components/email.yaml for the SMTP profile needs no other change.
	FormatAuto = "auto"
)

// formatOf maps binding component types to the email format they take.
var formatOf = map[string]string{"bindings.localstorage": FormatFile, "bindings.smtp": FormatSMTP}

// FailingDomain is a test domain: mail to it fails as a mail server's
// temporary refusal (451) would, every time, so retries and dead letters
// can be seen working (see README, "Notifications").
const FailingDomain = "fail.invalid"

type binder interface {
	InvokeOutputBinding(ctx context.Context, in *dapr.InvokeBindingRequest) error
	GetMetadata(ctx context.Context) (*dapr.GetMetadataResponse, error)
}

// BindingSender sends email through a Dapr output binding.
type BindingSender struct {
	client  binder
	binding string
	from    string
	mu      sync.Mutex
	format  string
}

// NewBindingSender sends through the binding named binding in format, from from.
func NewBindingSender(client binder, binding, format, from string) *BindingSender {
	return &BindingSender{client: client, binding: binding, format: format, from: from}
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9._@-]+`)

// Send delivers e.
func (s *BindingSender) Send(ctx context.Context, key string, e domain.Email) error {
	if strings.HasSuffix(e.To, "@"+FailingDomain) {
		return errors.New("451 4.3.0 temporary failure (test domain " + FailingDomain + ")")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	format, err := s.resolveFormat(ctx)
	if err != nil {
		return err
	}
	req := &dapr.InvokeBindingRequest{Name: s.binding, Operation: "create"}
	switch format {
	case FormatSMTP:
		req.Data = []byte(e.Body)
		req.Metadata = map[string]string{"emailTo": e.To, "emailFrom": s.from, "subject": e.Subject}
	default:
		req.Data = []byte(e.Message(s.from))
		// One file per event: a redelivery rewrites it instead of adding one.
		req.Metadata = map[string]string{"fileName": unsafe.ReplaceAllString(e.To+"__"+key, "_") + ".eml"}
	}
	if err := s.client.InvokeOutputBinding(ctx, req); err != nil {
		return fmt.Errorf("binding %s: %w", s.binding, err)
	}
	return nil
}

// resolveFormat returns the configured format, or for FormatAuto the one of
// the binding's component type (asked once; a failure is retried later).
func (s *BindingSender) resolveFormat(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.format != FormatAuto {
		return s.format, nil
	}
	md, err := s.client.GetMetadata(ctx)
	if err != nil {
		return "", fmt.Errorf("ask the sidecar for binding %s's type: %w", s.binding, err)
	}
	for _, c := range md.RegisteredComponents {
		if c.Name != s.binding {
			continue
		}
		f, ok := formatOf[c.Type]
		if !ok {
			return "", fmt.Errorf("binding %s is a %s: set EMAIL_FORMAT to %s or %s", s.binding, c.Type, FormatFile, FormatSMTP)
		}
		s.format = f
		return f, nil
	}
	return "", fmt.Errorf("the sidecar has no binding %s", s.binding)
}
