package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/token"
	"github.com/daprshop/user/domain"
)

// RefreshToken is a stored refresh token. Each use replaces it with a new
// one (rotation); a second use of the same one ends all the account's
// sessions, because only a stolen copy explains it.
type RefreshToken struct {
	Hash           string
	UserID         string
	SessionVersion int64
	ExpiresAt      time.Time
	UsedAt         time.Time // zero until used
}

// Session is the result of a login or a refresh.
type Session struct {
	AccessToken      string
	ExpiresAt        time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
	User             *domain.User
}

// Login checks credentials and starts a session. Unknown email and wrong
// password give the same error after the same work. client is the caller's
// address as the gateway saw it ("" when unknown).
func (s *Service) Login(ctx context.Context, rawEmail, password, client string) (*Session, error) {
	email, err := domain.NormalizeEmail(rawEmail)
	if err != nil {
		email = "invalid" // still counted, so guessing formats is throttled too
	}
	keys := []string{"account:" + email}
	if client != "" {
		keys = append(keys, "client:"+client)
	}
	// Checked before the password, so that the right password inside a
	// blocked window is refused like a wrong one: otherwise the 429s would
	// tell a guesser which attempt was right.
	wait, err := s.throttle.Blocked(ctx, keys...)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		return nil, &domain.ThrottledError{RetryAfter: wait}
	}
	u, err := s.checkCredentials(ctx, email, password)
	if errors.Is(err, domain.ErrInvalidCredentials) {
		if ferr := s.throttle.Failed(ctx, keys...); ferr != nil {
			return nil, errors.Join(err, ferr)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := s.throttle.Reset(ctx, keys[0]); err != nil {
		return nil, err
	}
	return s.startSession(ctx, u)
}

func (s *Service) checkCredentials(ctx context.Context, email, password string) (*domain.User, error) {
	u, err := s.repo.GetByEmail(ctx, email)
	if errors.Is(err, domain.ErrNotFound) {
		_, _ = s.hasher.Verify(s.dummyHash, password)
		return nil, domain.ErrInvalidCredentials
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.hasher.Verify(u.PasswordHash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.ErrInvalidCredentials
	}
	return u, nil
}

// startSession issues an access token and a new refresh token for u's
// current session version.
func (s *Service) startSession(ctx context.Context, u *domain.User) (*Session, error) {
	access, exp, err := s.tokens.Issue(token.Subject{ID: u.ID, Role: u.Role, Email: u.Email, SessionVersion: u.SessionVersion})
	if err != nil {
		return nil, err
	}
	raw, err := newRefreshValue()
	if err != nil {
		return nil, err
	}
	rt := RefreshToken{
		Hash: hashRefresh(raw), UserID: u.ID, SessionVersion: u.SessionVersion,
		ExpiresAt: s.now().UTC().Add(s.refreshTTL).Truncate(time.Second),
	}
	if err := s.refresh.Create(ctx, rt); err != nil {
		return nil, fmt.Errorf("store refresh token: %w", err)
	}
	return &Session{AccessToken: access, ExpiresAt: exp, RefreshToken: raw, RefreshExpiresAt: rt.ExpiresAt, User: u}, nil
}

// Refresh trades a refresh token for a new access token and a new refresh
// token. A token presented twice ends every session of its account.
func (s *Service) Refresh(ctx context.Context, raw string) (*Session, error) {
	rt, err := s.refresh.Use(ctx, hashRefresh(raw), s.now().UTC())
	if errors.Is(err, ErrRefreshUsed) {
		if _, rerr := s.endSessions(ctx, rt.UserID); rerr != nil && !errors.Is(rerr, domain.ErrNotFound) {
			return nil, errors.Join(domain.ErrSessionEnded, rerr)
		}
		return nil, domain.ErrSessionEnded
	}
	if err != nil {
		return nil, err
	}
	u, err := s.repo.Get(ctx, rt.UserID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, domain.ErrSessionEnded
	}
	if err != nil {
		return nil, err
	}
	if u.SessionVersion != rt.SessionVersion {
		return nil, domain.ErrSessionEnded
	}
	return s.startSession(ctx, u)
}

// Logout ends every session of the caller's account, on every device:
// access tokens stop working at the gateway, refresh tokens at once.
func (s *Service) Logout(ctx context.Context, who identity.Principal) error {
	_, err := s.endSessions(ctx, who.UserID)
	return err
}

func (s *Service) endSessions(ctx context.Context, id string) (*domain.User, error) {
	return s.repo.Update(ctx, id, func(u *domain.User) error {
		u.EndSessions()
		u.Touch(s.now())
		return nil
	})
}

// SessionVersion is the account's current session version: tokens
// carrying another one are refused by the gateway. domain.ErrNotFound once
// the account is deleted.
func (s *Service) SessionVersion(ctx context.Context, id string) (int64, error) {
	u, err := s.repo.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	return u.SessionVersion, nil
}

// EnsureAdmin creates the bootstrap admin (the Service's AdminEmail) with
// password unless the account exists. It never changes an existing one:
// rotating the secret later does not reset a password the admin has set.
func (s *Service) EnsureAdmin(ctx context.Context, password string) (created bool, err error) {
	u, err := s.repo.GetByEmail(ctx, s.adminEmail)
	switch {
	case err == nil && u.Role == identity.RoleAdmin:
		return false, nil
	case err == nil:
		return false, fmt.Errorf("bootstrap admin %s exists with role %s; fix it by hand", s.adminEmail, u.Role)
	case !errors.Is(err, domain.ErrNotFound):
		return false, err
	}
	if err := domain.CheckPassword(password, s.adminEmail); err != nil {
		return false, fmt.Errorf("bootstrap admin password: %w", err)
	}
	hash, err := s.hasher.Hash(password)
	if err != nil {
		return false, err
	}
	u, err = domain.NewUser(s.newID(), s.adminEmail, "Administrator", hash, identity.RoleAdmin, s.now())
	if err != nil {
		return false, err
	}
	if err := s.repo.Create(ctx, u); err != nil {
		if errors.Is(err, domain.ErrEmailTaken) {
			return false, nil // another replica made it first
		}
		return false, err
	}
	return true, nil
}

// newRefreshValue is 256 random bits, URL-safe.
func newRefreshValue() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// hashRefresh is the key a refresh token is stored under: a leak of the
// store does not leak usable tokens.
func hashRefresh(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}
