// Package app holds the user service's use cases. It depends only on the
// narrow interfaces below; adapters implement them and service/ wires them.
package app

import (
	"context"
	"errors"
	"time"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/user/domain"
)

// Repository stores accounts and guarantees that an email belongs to at most
// one account, atomically.
type Repository interface {
	// Create stores a new account; ErrEmailTaken if its email is in use.
	Create(ctx context.Context, u *domain.User) error
	Get(ctx context.Context, id string) (*domain.User, error)
	GetByEmail(ctx context.Context, email string) (*domain.User, error)
	// Update loads the account, applies change and stores the result, retrying
	// on a concurrent change. A change of email is atomic like Create.
	Update(ctx context.Context, id string, change func(*domain.User) error) (*domain.User, error)
	// Delete removes the account and frees its email; it returns what was deleted.
	Delete(ctx context.Context, id string) (*domain.User, error)
}

// PasswordHasher hashes and checks passwords.
type PasswordHasher interface {
	Hash(password string) (string, error)
	Verify(hash, password string) (bool, error)
}

// TokenIssuer signs access tokens.
type TokenIssuer interface {
	Issue(subject, role, email string) (string, time.Time, error)
}

// EventPublisher publishes domain events.
type EventPublisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// IDGenerator returns new account IDs.
type IDGenerator func() string

// ErrNotReady means a dependency is still starting; the caller may retry.
var ErrNotReady = errors.New("service is starting; retry shortly")
