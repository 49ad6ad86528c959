package adapters

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/user/app"
	"github.com/daprshop/user/domain"
)

// Refresh tokens and failed-login counters live in the user's state store
// beside the accounts, each key with a TTL so that the store forgets them by
// itself:
//
//	refresh|<sha256 of the token>  a refresh token, until it expires
//	failures|<account or address>  failed logins of the current window

type refreshRecord struct {
	UserID         string    `json:"userId"`
	SessionVersion int64     `json:"sessionVersion"`
	ExpiresAt      time.Time `json:"expiresAt"`
	UsedAt         time.Time `json:"usedAt,omitzero"`
}

func refreshKey(hash string) string { return "refresh|" + hash }

// DaprRefreshTokens keeps refresh tokens in a Dapr state store.
type DaprRefreshTokens struct{ store *statestore.Store }

// NewDaprRefreshTokens keeps refresh tokens in store.
func NewDaprRefreshTokens(store *statestore.Store) *DaprRefreshTokens {
	return &DaprRefreshTokens{store: store}
}

// Create inserts the token, to expire with it.
func (d *DaprRefreshTokens) Create(ctx context.Context, t app.RefreshToken) error {
	rec := refreshRecord{UserID: t.UserID, SessionVersion: t.SessionVersion, ExpiresAt: t.ExpiresAt}
	return d.store.SaveExpiring(ctx, refreshKey(t.Hash), rec, "", time.Until(t.ExpiresAt))
}

// Use marks the token used under its ETag, so of two concurrent uses one
// gets ErrRefreshUsed. The used token is kept until it expires, to notice
// a replay.
func (d *DaprRefreshTokens) Use(ctx context.Context, hash string, now time.Time) (app.RefreshToken, error) {
	var rec refreshRecord
	found, etag, err := d.store.Get(ctx, refreshKey(hash), &rec)
	if err != nil {
		return app.RefreshToken{}, err
	}
	t := app.RefreshToken{Hash: hash, UserID: rec.UserID, SessionVersion: rec.SessionVersion, ExpiresAt: rec.ExpiresAt, UsedAt: rec.UsedAt}
	if !found || !now.Before(rec.ExpiresAt) {
		return app.RefreshToken{}, domain.ErrSessionEnded
	}
	if !rec.UsedAt.IsZero() {
		return t, app.ErrRefreshUsed
	}
	rec.UsedAt = now
	if err := d.store.SaveExpiring(ctx, refreshKey(hash), rec, etag, rec.ExpiresAt.Sub(now)); err != nil {
		if statestore.IsConflict(err) {
			return t, app.ErrRefreshUsed
		}
		return app.RefreshToken{}, fmt.Errorf("mark refresh token used: %w", err)
	}
	return t, nil
}

// LoginPolicy bounds failed logins: after MaxFailures within Window of the
// first one, a key is blocked until that window ends.
type LoginPolicy struct {
	MaxFailures int
	Window      time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

func (p LoginPolicy) clock() func() time.Time {
	if p.Now == nil {
		return time.Now
	}
	return p.Now
}

// failures are one key's failed logins in its current window.
type failures struct {
	Count int       `json:"count"`
	Until time.Time `json:"until"`
}

func (f failures) blockedFor(p LoginPolicy, now time.Time) time.Duration {
	if f.Count >= p.MaxFailures && now.Before(f.Until) {
		return f.Until.Sub(now)
	}
	return 0
}

func (f failures) plusOne(p LoginPolicy, now time.Time) failures {
	if !now.Before(f.Until) {
		return failures{Count: 1, Until: now.Add(p.Window)}
	}
	f.Count++
	return f
}

func failuresKey(key string) string { return "failures|" + key }

// DaprLoginThrottle counts failed logins in a Dapr state store, so every
// replica of the user service sees the same counts.
type DaprLoginThrottle struct {
	store  *statestore.Store
	policy LoginPolicy
	now    func() time.Time
}

// NewDaprLoginThrottle counts in store under policy.
func NewDaprLoginThrottle(store *statestore.Store, p LoginPolicy) *DaprLoginThrottle {
	return &DaprLoginThrottle{store: store, policy: p, now: p.clock()}
}

// Blocked reads every key's window.
func (d *DaprLoginThrottle) Blocked(ctx context.Context, keys ...string) (time.Duration, error) {
	var wait time.Duration
	for _, k := range keys {
		var f failures
		if _, _, err := d.store.Get(ctx, failuresKey(k), &f); err != nil {
			return 0, err
		}
		wait = max(wait, f.blockedFor(d.policy, d.now()))
	}
	return wait, nil
}

// Failed adds one failure to each key, under its ETag, retrying on a
// concurrent change so that parallel guesses are all counted.
func (d *DaprLoginThrottle) Failed(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if err := d.add(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func (d *DaprLoginThrottle) add(ctx context.Context, key string) error {
	var last error
	for range maxUpdateAttempts {
		var f failures
		found, etag, err := d.store.Get(ctx, failuresKey(key), &f)
		if err != nil {
			return err
		}
		now := d.now()
		f = f.plusOne(d.policy, now)
		if !found {
			etag = ""
		}
		last = d.store.SaveExpiring(ctx, failuresKey(key), f, etag, f.Until.Sub(now))
		if last == nil {
			return nil
		}
		if !statestore.IsConflict(last) && found {
			return fmt.Errorf("count failed login: %w", last)
		}
		// A conflict, or an insert that lost to another one: read again.
	}
	return fmt.Errorf("count failed login: %d attempts: %w", maxUpdateAttempts, last)
}

// Reset deletes key's window.
func (d *DaprLoginThrottle) Reset(ctx context.Context, key string) error {
	return d.store.Delete(ctx, failuresKey(key), "")
}

// MemoryRefreshTokens and MemoryLoginThrottle are in-process versions for
// unit tests of the use cases, with the same rules.
type MemoryRefreshTokens struct {
	mu     sync.Mutex
	tokens map[string]app.RefreshToken
}

// NewMemoryRefreshTokens returns an empty store.
func NewMemoryRefreshTokens() *MemoryRefreshTokens {
	return &MemoryRefreshTokens{tokens: map[string]app.RefreshToken{}}
}

func (m *MemoryRefreshTokens) Create(_ context.Context, t app.RefreshToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[t.Hash] = t
	return nil
}

func (m *MemoryRefreshTokens) Use(_ context.Context, hash string, now time.Time) (app.RefreshToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[hash]
	if !ok || !now.Before(t.ExpiresAt) {
		return app.RefreshToken{}, domain.ErrSessionEnded
	}
	if !t.UsedAt.IsZero() {
		return t, app.ErrRefreshUsed
	}
	used := t
	used.UsedAt = now
	m.tokens[hash] = used
	return t, nil
}

// MemoryLoginThrottle is DaprLoginThrottle's rules in a map.
type MemoryLoginThrottle struct {
	mu     sync.Mutex
	policy LoginPolicy
	keys   map[string]failures
	now    func() time.Time
}

// NewMemoryLoginThrottle counts under policy.
func NewMemoryLoginThrottle(p LoginPolicy) *MemoryLoginThrottle {
	return &MemoryLoginThrottle{policy: p, keys: map[string]failures{}, now: p.clock()}
}

func (m *MemoryLoginThrottle) Blocked(_ context.Context, keys ...string) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		wait = max(wait, m.keys[k].blockedFor(m.policy, m.now()))
	}
	return wait, nil
}

func (m *MemoryLoginThrottle) Failed(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		m.keys[k] = m.keys[k].plusOne(m.policy, m.now())
	}
	return nil
}

func (m *MemoryLoginThrottle) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, key)
	return nil
}
