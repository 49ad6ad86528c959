// Package domain holds the user service's entity, its invariants and its errors.
package domain

import (
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/invalid"
)

// Errors the HTTP port maps to statuses (see ports/errors.go).
var (
	ErrNotFound           = errors.New("user not found")
	ErrEmailTaken         = errors.New("email already registered")
	ErrInvalidCredentials = errors.New("invalid email or password")
	ErrForbidden          = errors.New("not allowed")
	ErrConflict           = errors.New("the account changed concurrently; retry")
	// ErrSessionEnded refuses a refresh token that is unknown, expired,
	// used before, or issued before the account's sessions were ended.
	ErrSessionEnded = errors.New("the session has ended; log in again")
)

// ThrottledError refuses a login while its account or client address has
// failed too often; RetryAfter says when it may try again.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return "too many failed logins; retry after " + e.RetryAfter.Round(time.Second).String()
}

// User is an account. PasswordHash never leaves the service.
type User struct {
	ID           string
	Email        string
	Name         string
	PasswordHash string
	Role         string
	// Version increases by one on every change; events carry it so consumers
	// can order and deduplicate them.
	Version int64
	// SessionVersion is carried in every token issued; raising it ends
	// every session issued before (see EndSessions).
	SessionVersion int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Password policy.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
	MaxNameLen     = 100
)

// NormalizeEmail trims, NFKC-normalises and lower-cases an address and
// checks that it is a plain address (no display name), so "Ann@Example.COM ",
// "ann@example.com" and the same written with full-width letters are one
// account.
func NormalizeEmail(raw string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(norm.NFKC.String(raw)))
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || len(e) > 254 {
		return "", errors.New("must be a valid email address")
	}
	return e, nil
}

// CheckPassword enforces the password policy: 10 to 128 characters, at least
// one letter and one digit, and not the email's local part.
func CheckPassword(pw, email string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen || n > MaxPasswordLen {
		return errors.New("must be 10 to 128 characters long")
	}
	var letter, digit bool
	for _, r := range pw {
		letter = letter || unicode.IsLetter(r)
		digit = digit || unicode.IsDigit(r)
	}
	if !letter || !digit {
		return errors.New("must contain at least one letter and one digit")
	}
	if local, _, ok := strings.Cut(email, "@"); ok && strings.Contains(strings.ToLower(pw), local) && len(local) >= 4 {
		return errors.New("must not contain your email address")
	}
	return nil
}

// CheckName requires a non-empty display name of sane length without
// control characters: names go into emails, and a line break there could
// start a header of the user's choosing.
func CheckName(name string) error {
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return errors.New("must not contain control characters or line breaks")
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > MaxNameLen {
		return errors.New("must be 1 to 100 characters long")
	}
	return nil
}

// ValidRole reports whether role is one the platform knows.
func ValidRole(role string) bool {
	return role == identity.RoleCustomer || role == identity.RoleAdmin
}

// NewUser builds a valid account; the password must already be hashed.
func NewUser(id, email, name, passwordHash, role string, now time.Time) (*User, error) {
	var v invalid.Error
	normalized, err := NormalizeEmail(email)
	if err != nil {
		v.Add("email", err.Error())
	}
	if err := CheckName(name); err != nil {
		v.Add("name", err.Error())
	}
	if !ValidRole(role) {
		v.Add("role", "must be customer or admin")
	}
	if id == "" || passwordHash == "" {
		return nil, errors.New("new user: id and password hash are required")
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	now = now.UTC()
	return &User{
		ID: id, Email: normalized, Name: strings.TrimSpace(name), PasswordHash: passwordHash,
		Role: role, Version: 1, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// EndSessions invalidates every access and refresh token issued so far:
// on a change of role, password or email, a logout, or a refresh token
// used twice. The gateway refuses the old access tokens within its session
// cache's lifetime (SESSION_CACHE_TTL, at most 5 s).
func (u *User) EndSessions() {
	u.SessionVersion++
}

// Touch records a change.
func (u *User) Touch(now time.Time) {
	u.Version++
	u.UpdatedAt = now.UTC()
}
