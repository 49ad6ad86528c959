package adapters

import (
	"context"

	"github.com/daprshop/notification/app"
	"github.com/daprshop/platform/daprpubsub"
	"github.com/daprshop/platform/events"
)

// Republisher puts events back on their topics under their own IDs.
type Republisher struct{ pub *daprpubsub.Publisher }

// NewRepublisher publishes with pub.
func NewRepublisher(pub *daprpubsub.Publisher) *Republisher { return &Republisher{pub: pub} }

// Republish publishes e to its topic again.
func (r *Republisher) Republish(ctx context.Context, e app.Event) error {
	return r.pub.Publish(ctx, events.Event{ID: e.ID, Topic: e.Topic, Data: e.Data})
}
