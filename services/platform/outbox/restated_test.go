package outbox_test

import (
	"testing"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/outbox"
)

func TestRestated(t *testing.T) {
	now := events.Event{ID: "thing.updated/t1/3", Topic: "thing.updated", Subject: "t1"}
	for _, c := range []struct {
		name     string
		expected string
		found    bool
		want     string // "" when nothing is published
	}{
		{"created, there", "thing.created", true, "thing.created"},
		{"created, never made", "thing.created", false, ""},
		{"updated, there", "thing.updated", true, "thing.updated/t1/3"},
		{"updated, gone since", "thing.updated", false, ""},
		{"deleted, gone", "thing.deleted", false, "thing.deleted"},
		{"deleted, still there", "thing.deleted", true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			expected := events.Event{ID: c.expected, Topic: c.expected, Subject: "t1"}
			e, ok := outbox.Restated(expected, c.found, "thing.created", "thing.deleted", func() events.Event { return now })
			got := ""
			if ok {
				got = e.ID
			}
			if got != c.want {
				t.Fatalf("published %q, want %q", got, c.want)
			}
		})
	}
}
