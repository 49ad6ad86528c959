// Package app holds the user service's use cases. It depends only on the
// narrow interfaces below; adapters implement them and service/ wires them.
package app

import (
	"context"
	"errors"
	"time"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/outbox"
	"github.com/daprshop/platform/token"
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
	Issue(sub token.Subject) (string, time.Time, error)
}

// RefreshTokens keeps refresh tokens by the hash of their value; the value
// itself is never stored.
type RefreshTokens interface {
	// Create stores a new token until its ExpiresAt.
	Create(ctx context.Context, t RefreshToken) error
	// Use marks the token used and returns it as it was. It returns
	// ErrRefreshUsed (with the token) if it had been used already, or
	// lost a race with a concurrent use, and domain.ErrSessionEnded if it
	// is unknown or expired.
	Use(ctx context.Context, hash string, now time.Time) (RefreshToken, error)
}

// ErrRefreshUsed means a refresh token was presented a second time.
var ErrRefreshUsed = errors.New("refresh token used before")

// LoginThrottle counts failed logins under keys (an account, a client
// address) in windows of fixed length.
type LoginThrottle interface {
	// Blocked returns how long until the most blocked of keys may try
	// again (0: none is).
	Blocked(ctx context.Context, keys ...string) (time.Duration, error)
	// Failed counts one failure against each key.
	Failed(ctx context.Context, keys ...string) error
	// Reset forgets key's failures.
	Reset(ctx context.Context, key string) error
}

// Announcer writes an event down before the change it reports and
// publishes it once the change committed (package outbox): a request's
// client may never retry, so nothing else would.
type Announcer interface {
	Expect(ctx context.Context, e events.Event) (outbox.Ticket, error)
	Announce(ctx context.Context, t outbox.Ticket, e events.Event)
	// Forget crosses off a ticket whose change changed nothing (cause
	// nil) or was refused.
	Forget(ctx context.Context, t outbox.Ticket, cause error)
}

// IDGenerator returns new account IDs.
type IDGenerator func() string

// ErrNotReady means a dependency is still starting; the caller may retry.
var ErrNotReady = errors.New("service is starting; retry shortly")
