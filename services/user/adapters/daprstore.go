package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/user/domain"
)

// DaprUserStore keeps accounts in a Dapr state store under two kinds of key:
//
//	user|<id>     the account
//	email|<email> a claim: which account owns the address
//
// Uniqueness rests on one atomic primitive every transactional Dapr store
// offers: a first-write save with no ETag inserts only if the key is absent
// (a Lua script on Redis, INSERT ... ON CONFLICT on PostgreSQL). Two
// concurrent registrations of one email race for the claim and exactly one
// wins. Dapr's multi-key transactions are not used: on Redis they do not roll
// back when one operation fails, so they cannot make the claim conditional.
//
// Writes happen in an order that leaves, after a crash, at most an orphan
// nobody can reach (an account without a claim) or a claim whose account is
// gone or has moved to another address; such a claim is taken over once it is
// older than claimGrace.
type DaprUserStore struct {
	store *statestore.Store
	now   func() time.Time
}

// claimGrace is longer than any request: a claim this old whose account does
// not hold the address is left over from a crash, not a write in flight.
const claimGrace = time.Minute

// maxUpdateAttempts bounds retries when an account changes under us.
const maxUpdateAttempts = 5

// NewDaprUserStore stores accounts in the Dapr state store named store.
func NewDaprUserStore(store *statestore.Store) *DaprUserStore {
	return &DaprUserStore{store: store, now: time.Now}
}

type userRecord struct {
	ID           string `json:"id"`
	Email        string `json:"email"`
	Name         string `json:"name"`
	PasswordHash string `json:"passwordHash"`
	Role         string `json:"role"`
	Version      int64  `json:"version"`
	// Accounts stored before sessions had versions read as 0, which is
	// what their tokens (without "sv") carry too.
	SessionVersion int64     `json:"sessionVersion,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

type emailClaim struct {
	UserID    string    `json:"userId"`
	ClaimedAt time.Time `json:"claimedAt"`
}

func userKey(id string) string     { return "user|" + id }
func emailKey(email string) string { return "email|" + email }

// Create stores the account first (under a fresh ID nobody can reach yet),
// then claims its email; if the claim is lost, the account is removed again.
func (s *DaprUserStore) Create(ctx context.Context, u *domain.User) error {
	if err := s.store.Insert(ctx, userKey(u.ID), toRecord(u)); err != nil {
		return fmt.Errorf("store account %s: %w", u.ID, err)
	}
	if err := s.claim(ctx, u.Email, u.ID); err != nil {
		if derr := s.store.Delete(ctx, userKey(u.ID), ""); derr != nil {
			err = errors.Join(err, fmt.Errorf("remove unclaimed account %s: %w", u.ID, derr))
		}
		return err
	}
	return nil
}

// Get returns the account with id.
func (s *DaprUserStore) Get(ctx context.Context, id string) (*domain.User, error) {
	u, _, err := s.getUser(ctx, id)
	return u, err
}

// GetByEmail follows the email's claim to its account.
func (s *DaprUserStore) GetByEmail(ctx context.Context, email string) (*domain.User, error) {
	var c emailClaim
	found, _, err := s.store.Get(ctx, emailKey(email), &c)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, domain.ErrNotFound
	}
	u, _, err := s.getUser(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	if u.Email != email { // a claim left behind by an interrupted change
		return nil, domain.ErrNotFound
	}
	return u, nil
}

// Update applies change under the account's ETag, retrying when another
// writer got there first. A new email is claimed before the account is saved
// and the old one released after.
func (s *DaprUserStore) Update(ctx context.Context, id string, change func(*domain.User) error) (*domain.User, error) {
	for range maxUpdateAttempts {
		u, etag, err := s.getUser(ctx, id)
		if err != nil {
			return nil, err
		}
		before := *u
		if err := change(u); err != nil {
			return nil, err
		}
		if u.Version == before.Version {
			return u, nil // nothing changed
		}
		emailChanged := u.Email != before.Email
		if emailChanged {
			if err := s.claim(ctx, u.Email, id); err != nil {
				return nil, err
			}
		}
		err = s.store.Save(ctx, userKey(id), toRecord(u), etag)
		if err != nil {
			if emailChanged {
				s.release(ctx, u.Email, id)
			}
			if statestore.IsConflict(err) {
				continue
			}
			return nil, fmt.Errorf("save account %s: %w", id, err)
		}
		if emailChanged {
			s.release(ctx, before.Email, id)
		}
		return u, nil
	}
	return nil, domain.ErrConflict
}

// Delete removes the account, then its claim.
func (s *DaprUserStore) Delete(ctx context.Context, id string) (*domain.User, error) {
	for range maxUpdateAttempts {
		u, etag, err := s.getUser(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := s.store.Delete(ctx, userKey(id), etag); err != nil {
			if statestore.IsConflict(err) {
				continue
			}
			return nil, fmt.Errorf("delete account %s: %w", id, err)
		}
		s.release(ctx, u.Email, id)
		return u, nil
	}
	return nil, domain.ErrConflict
}

// Ready is the readiness check: the state store answers through the sidecar.
func (s *DaprUserStore) Ready(ctx context.Context) error { return s.store.Ready(ctx) }

// claim makes email belong to userID, or returns ErrEmailTaken.
func (s *DaprUserStore) claim(ctx context.Context, email, userID string) error {
	mine := emailClaim{UserID: userID, ClaimedAt: s.now().UTC()}
	c, etag, err := statestore.InsertOrGetVersioned(ctx, s.store, emailKey(email), &mine, 0)
	if c == nil || err != nil {
		return err
	}
	if c.UserID == userID {
		return nil // an earlier attempt of ours (retried by the sidecar) succeeded
	}
	if !s.abandoned(ctx, *c, email) {
		return domain.ErrEmailTaken
	}
	if err := s.store.Save(ctx, emailKey(email), mine, etag); err != nil {
		if statestore.IsConflict(err) {
			return domain.ErrEmailTaken // another registration took it over first
		}
		return fmt.Errorf("take over claim %s: %w", email, err)
	}
	return nil
}

// abandoned reports whether a claim is a crash leftover: old, and its
// account is gone or uses another address.
func (s *DaprUserStore) abandoned(ctx context.Context, c emailClaim, email string) bool {
	if s.now().Sub(c.ClaimedAt) < claimGrace {
		return false
	}
	u, _, err := s.getUser(ctx, c.UserID)
	if errors.Is(err, domain.ErrNotFound) {
		return true
	}
	return err == nil && u.Email != email
}

// release deletes userID's claim on email, if it still holds it. It is
// best effort: a claim left behind is taken over later (see abandoned).
func (s *DaprUserStore) release(ctx context.Context, email, userID string) {
	var c emailClaim
	found, etag, err := s.store.Get(ctx, emailKey(email), &c)
	if err != nil || !found || c.UserID != userID {
		return
	}
	_ = s.store.Delete(ctx, emailKey(email), etag)
}

func (s *DaprUserStore) getUser(ctx context.Context, id string) (*domain.User, string, error) {
	var r userRecord
	found, etag, err := s.store.Get(ctx, userKey(id), &r)
	if err != nil {
		return nil, "", err
	}
	if !found {
		return nil, "", domain.ErrNotFound
	}
	return fromRecord(r), etag, nil
}

func toRecord(u *domain.User) userRecord {
	return userRecord{ID: u.ID, Email: u.Email, Name: u.Name, PasswordHash: u.PasswordHash, Role: u.Role,
		Version: u.Version, SessionVersion: u.SessionVersion, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func fromRecord(r userRecord) *domain.User {
	return &domain.User{ID: r.ID, Email: r.Email, Name: r.Name, PasswordHash: r.PasswordHash, Role: r.Role,
		Version: r.Version, SessionVersion: r.SessionVersion, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}
