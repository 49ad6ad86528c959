package adapters

import (
	"context"
	"errors"
	"strings"
	"testing"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/daprshop/notification/domain"
)

// fakeBinder records binding calls and answers the metadata API with one
// registered component.
type fakeBinder struct {
	componentType string
	metadataCalls int
	sent          []*dapr.InvokeBindingRequest
}

func (f *fakeBinder) InvokeOutputBinding(_ context.Context, in *dapr.InvokeBindingRequest) error {
	f.sent = append(f.sent, in)
	return nil
}

func (f *fakeBinder) GetMetadata(context.Context) (*dapr.GetMetadataResponse, error) {
	f.metadataCalls++
	if f.componentType == "" {
		return nil, errors.New("sidecar not up")
	}
	return &dapr.GetMetadataResponse{RegisteredComponents: []*dapr.MetadataRegisteredComponents{
		{Name: "other", Type: "state.redis"}, {Name: "email", Type: f.componentType},
	}}, nil
}

func TestAutoFormatFollowsTheBindingType(t *testing.T) {
	email := domain.Email{To: "ann@example.com", Subject: "Hi", Body: "Hello"}
	for _, tc := range []struct {
		componentType, wantMeta string
	}{
		{"bindings.localstorage", "fileName"},
		{"bindings.smtp", "emailTo"},
	} {
		t.Run(tc.componentType, func(t *testing.T) {
			b := &fakeBinder{componentType: tc.componentType}
			s := NewBindingSender(b, "email", FormatAuto, "shop <no-reply@example.com>")
			for range 2 {
				if err := s.Send(context.Background(), "k", email); err != nil {
					t.Fatal(err)
				}
			}
			if _, ok := b.sent[0].Metadata[tc.wantMeta]; !ok || b.metadataCalls != 1 {
				t.Fatalf("metadata %v after %d metadata calls, want %s asked once", b.sent[0].Metadata, b.metadataCalls, tc.wantMeta)
			}
		})
	}
	t.Run("unknown type names the fix", func(t *testing.T) {
		err := NewBindingSender(&fakeBinder{componentType: "bindings.http"}, "email", FormatAuto, "x").Send(context.Background(), "k", email)
		if err == nil || !strings.Contains(err.Error(), "EMAIL_FORMAT") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a sidecar that is not up yet is asked again later", func(t *testing.T) {
		b := &fakeBinder{}
		s := NewBindingSender(b, "email", FormatAuto, "x")
		if err := s.Send(context.Background(), "k", email); err == nil {
			t.Fatal("sent without knowing the format")
		}
		b.componentType = "bindings.smtp"
		if err := s.Send(context.Background(), "k", email); err != nil || len(b.sent) != 1 {
			t.Fatalf("err %v, sent %d", err, len(b.sent))
		}
	})
}
