package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/invalid"
	"github.com/daprshop/platform/outbox"
	"github.com/daprshop/user/domain"
)

// Service implements the use cases.
type Service struct {
	repo       Repository
	hasher     PasswordHasher
	tokens     TokenIssuer
	events     Announcer
	newID      IDGenerator
	now        func() time.Time
	adminEmail string
	refresh    RefreshTokens
	refreshTTL time.Duration
	throttle   LoginThrottle
	// dummyHash is verified against when an email is unknown, so a login
	// takes as long for an unknown email as for a wrong password.
	dummyHash string
}

// Deps are the Service's collaborators.
type Deps struct {
	Repo   Repository
	Hasher PasswordHasher
	Tokens TokenIssuer
	Events Announcer
	NewID  IDGenerator
	Now    func() time.Time
	// Refresh keeps refresh tokens, which live for RefreshTTL.
	Refresh    RefreshTokens
	RefreshTTL time.Duration
	// Throttle counts failed logins per account and per client address.
	Throttle LoginThrottle
	// AdminEmail is the bootstrap admin's address (EnsureAdmin); nobody may
	// register it.
	AdminEmail string
}

// NewService checks deps and returns the Service.
func NewService(d Deps) (*Service, error) {
	if d.Repo == nil || d.Hasher == nil || d.Tokens == nil || d.Events == nil || d.NewID == nil || d.Refresh == nil || d.Throttle == nil {
		return nil, errors.New("user service: missing dependency")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	dummy, err := d.Hasher.Hash("timing-equaliser-not-a-password-1")
	if err != nil {
		return nil, err
	}
	admin, err := domain.NormalizeEmail(d.AdminEmail)
	if err != nil {
		return nil, fmt.Errorf("admin email %q: %w", d.AdminEmail, err)
	}
	if d.RefreshTTL <= 0 {
		d.RefreshTTL = 7 * 24 * time.Hour
	}
	return &Service{
		repo: d.Repo, hasher: d.Hasher, tokens: d.Tokens, events: d.Events, newID: d.NewID,
		now: d.Now, adminEmail: admin, refresh: d.Refresh, refreshTTL: d.RefreshTTL, throttle: d.Throttle,
		dummyHash: dummy,
	}, nil
}

// RegisterInput is a new account's data.
type RegisterInput struct {
	Email    string
	Name     string
	Password string
}

// Register creates an account and publishes user.registered.
func (s *Service) Register(ctx context.Context, in RegisterInput) (*domain.User, error) {
	email, emailErr := domain.NormalizeEmail(in.Email)
	var v invalid.Error
	if emailErr != nil {
		v.Add("email", emailErr.Error())
	}
	if err := domain.CheckName(in.Name); err != nil {
		v.Add("name", err.Error())
	}
	if err := domain.CheckPassword(in.Password, email); err != nil {
		v.Add("password", err.Error())
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}

	// The bootstrap admin's address is reserved even before EnsureAdmin has
	// run: registering it must not win the account.
	if email == s.adminEmail {
		return nil, domain.ErrEmailTaken
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	// Every registration is a customer; admins are made by an admin, or
	// from the bootstrap secret (EnsureAdmin).
	u, err := domain.NewUser(s.newID(), email, in.Name, hash, identity.RoleCustomer, s.now())
	if err != nil {
		return nil, err
	}
	e := events.Event{
		ID: events.TopicUserRegistered + "/" + u.ID, Topic: events.TopicUserRegistered, Subject: u.ID,
		Data: events.UserRegistered{UserID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, RegisteredAt: u.CreatedAt},
	}
	ticket, err := s.events.Expect(ctx, e)
	if err != nil {
		return nil, err
	}
	if err := s.repo.Create(ctx, u); err != nil {
		s.events.Forget(ctx, ticket, err)
		return nil, err
	}
	s.events.Announce(ctx, ticket, e)
	return u, nil
}

// Get returns an account to its owner or an admin.
func (s *Service) Get(ctx context.Context, who identity.Principal, id string) (*domain.User, error) {
	if !who.CanAccess(id) {
		return nil, domain.ErrForbidden
	}
	return s.repo.Get(ctx, id)
}

// UpdateInput holds the fields to change; nil means unchanged.
type UpdateInput struct {
	Email           *string
	Name            *string
	Password        *string
	Role            *string
	CurrentPassword string
}

// Update changes an account. Owners must confirm email and password changes
// with their current password; only admins change roles.
func (s *Service) Update(ctx context.Context, who identity.Principal, id string, in UpdateInput) (*domain.User, error) {
	if !who.CanAccess(id) {
		return nil, domain.ErrForbidden
	}
	if in.Role != nil && !who.IsAdmin() {
		return nil, fmt.Errorf("%w: only an admin can change a role", domain.ErrForbidden)
	}
	var v invalid.Error
	var email string
	if in.Email != nil {
		e, err := domain.NormalizeEmail(*in.Email)
		if err != nil {
			v.Add("email", err.Error())
		}
		email = e
	}
	if in.Name != nil {
		if err := domain.CheckName(*in.Name); err != nil {
			v.Add("name", err.Error())
		}
	}
	if in.Role != nil && !domain.ValidRole(*in.Role) {
		v.Add("role", "must be customer or admin")
	}
	var newHash string
	if in.Password != nil {
		if err := domain.CheckPassword(*in.Password, email); err != nil {
			v.Add("password", err.Error())
		}
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	if in.Password != nil {
		h, err := s.hasher.Hash(*in.Password)
		if err != nil {
			return nil, err
		}
		newHash = h
	}
	// Acting on your own account with a credential change needs proof you hold it.
	needsProof := who.UserID == id && (in.Email != nil || in.Password != nil)

	// Its version is known once written; the ticket names the account.
	ticket, err := s.events.Expect(ctx, events.Event{Topic: events.TopicUserUpdated, Subject: id})
	if err != nil {
		return nil, err
	}
	var changed []string
	u, err := s.repo.Update(ctx, id, func(u *domain.User) error {
		changed = changed[:0] // the repository may retry
		if in.Password != nil && in.Email == nil {
			// The policy forbids the email in the password; only now is it known.
			if err := domain.CheckPassword(*in.Password, u.Email); err != nil {
				return invalid.New("password", err.Error())
			}
		}
		if needsProof {
			ok, err := s.hasher.Verify(u.PasswordHash, in.CurrentPassword)
			if err != nil {
				return err
			}
			if !ok {
				return invalid.New("currentPassword", "is wrong or missing")
			}
		}
		if in.Email != nil && email != u.Email {
			u.Email = email
			changed = append(changed, "email")
		}
		if in.Name != nil && strings.TrimSpace(*in.Name) != u.Name {
			u.Name = strings.TrimSpace(*in.Name)
			changed = append(changed, "name")
		}
		if in.Password != nil {
			u.PasswordHash = newHash
			changed = append(changed, "password")
		}
		if in.Role != nil && *in.Role != u.Role {
			u.Role = *in.Role
			changed = append(changed, "role")
		}
		// A token speaks for the role, email and password it was issued
		// with: once one changes, every earlier session ends.
		if slices.ContainsFunc(changed, func(c string) bool { return c != "name" }) {
			u.EndSessions()
		}
		if len(changed) > 0 {
			u.Touch(s.now())
		}
		return nil
	})
	if err != nil || len(changed) == 0 {
		s.events.Forget(ctx, ticket, err)
		return u, err
	}
	s.events.Announce(ctx, ticket, updated(u, changed))
	return u, nil
}

// updated is u's user.updated event; changed is nil when not known (a
// restated update).
func updated(u *domain.User, changed []string) events.Event {
	return events.Event{
		ID:    events.TopicUserUpdated + "/" + u.ID + "/" + strconv.FormatInt(u.Version, 10),
		Topic: events.TopicUserUpdated, Subject: u.ID,
		Data: events.UserUpdated{UserID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role,
			Changed: changed, Version: u.Version, UpdatedAt: u.UpdatedAt},
	}
}

// Restate answers what an account an event was expected for looks like
// now, for the outbox's sweep (outbox.Restated).
func (s *Service) Restate(ctx context.Context, expected events.Event) (events.Event, bool, error) {
	u, err := s.repo.Get(ctx, expected.Subject)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return events.Event{}, false, err
	}
	e, ok := outbox.Restated(expected, err == nil, events.TopicUserRegistered, events.TopicUserDeleted,
		func() events.Event { return updated(u, nil) })
	return e, ok, nil
}

// Delete removes an account (owner or admin) and publishes user.deleted.
func (s *Service) Delete(ctx context.Context, who identity.Principal, id string) error {
	if !who.CanAccess(id) {
		return domain.ErrForbidden
	}
	u, err := s.repo.Get(ctx, id)
	if err != nil {
		return err
	}
	e := events.Event{
		ID: events.TopicUserDeleted + "/" + u.ID, Topic: events.TopicUserDeleted, Subject: u.ID,
		Data: events.UserDeleted{UserID: u.ID, Email: u.Email, DeletedAt: s.now().UTC()},
	}
	ticket, err := s.events.Expect(ctx, e)
	if err != nil {
		return err
	}
	if _, err := s.repo.Delete(ctx, id); err != nil {
		s.events.Forget(ctx, ticket, err)
		return err
	}
	s.events.Announce(ctx, ticket, e)
	return nil
}
