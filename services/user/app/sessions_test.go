package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/daprshop/platform/identity"
	"github.com/daprshop/user/app"
	"github.com/daprshop/user/domain"
)

func TestSessionsEndWhenTheyShould(t *testing.T) {
	ctx := context.Background()
	s := func(v string) *string { return &v }
	admin := identity.Principal{UserID: "root", Role: identity.RoleAdmin}
	cases := []struct {
		name string
		end  func(svc *app.Service, u *domain.User) error
		ends bool
	}{
		{"rename", func(svc *app.Service, u *domain.User) error {
			_, err := svc.Update(ctx, admin, u.ID, app.UpdateInput{Name: s("Ann Two")})
			return err
		}, false},
		{"role change", func(svc *app.Service, u *domain.User) error {
			_, err := svc.Update(ctx, admin, u.ID, app.UpdateInput{Role: s(identity.RoleAdmin)})
			return err
		}, true},
		{"password change", func(svc *app.Service, u *domain.User) error {
			_, err := svc.Update(ctx, identity.Principal{UserID: u.ID, Role: u.Role}, u.ID,
				app.UpdateInput{Password: s("another-pass-7"), CurrentPassword: "correct-horse-42"})
			return err
		}, true},
		{"email change", func(svc *app.Service, u *domain.User) error {
			_, err := svc.Update(ctx, admin, u.ID, app.UpdateInput{Email: s("ann2@example.com")})
			return err
		}, true},
		{"logout", func(svc *app.Service, u *domain.User) error {
			return svc.Logout(ctx, identity.Principal{UserID: u.ID, Role: u.Role})
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, _ := newService(t)
			u := register(t, svc, "ann@example.com")
			sess, err := svc.Login(ctx, u.Email, "correct-horse-42", "")
			if err != nil {
				t.Fatal(err)
			}
			before, _ := svc.SessionVersion(ctx, u.ID)
			if err := c.end(svc, u); err != nil {
				t.Fatal(err)
			}
			after, _ := svc.SessionVersion(ctx, u.ID)
			if ended := after != before; ended != c.ends {
				t.Errorf("session version %d -> %d: ended = %v, want %v", before, after, ended, c.ends)
			}
			_, err = svc.Refresh(ctx, sess.RefreshToken)
			if c.ends && !errors.Is(err, domain.ErrSessionEnded) {
				t.Errorf("the old refresh token still works: %v", err)
			}
			if !c.ends && err != nil {
				t.Errorf("refresh after a harmless change: %v", err)
			}
		})
	}
	t.Run("deletion", func(t *testing.T) {
		svc, _ := newService(t)
		u := register(t, svc, "ann@example.com")
		sess, _ := svc.Login(ctx, u.Email, "correct-horse-42", "")
		if err := svc.Delete(ctx, admin, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SessionVersion(ctx, u.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("session of a deleted account: %v", err)
		}
		if _, err := svc.Refresh(ctx, sess.RefreshToken); !errors.Is(err, domain.ErrSessionEnded) {
			t.Errorf("refresh of a deleted account: %v", err)
		}
	})
}

func TestRefreshTokensRotateAndAReplayEndsEverySession(t *testing.T) {
	ctx := context.Background()
	svc, _, clock := newServiceAt(t)
	u := register(t, svc, "ann@example.com")
	first, _ := svc.Login(ctx, u.Email, "correct-horse-42", "")
	other, _ := svc.Login(ctx, u.Email, "correct-horse-42", "") // another device

	second, err := svc.Refresh(ctx, first.RefreshToken)
	if err != nil || second.RefreshToken == first.RefreshToken || !strings.HasPrefix(second.AccessToken, "token-for-"+u.ID) {
		t.Fatalf("refresh = %+v, %v", second, err)
	}
	// The first token again: a thief or the victim, we cannot tell which,
	// so every session of the account ends.
	if _, err := svc.Refresh(ctx, first.RefreshToken); !errors.Is(err, domain.ErrSessionEnded) {
		t.Fatalf("replayed refresh token: %v", err)
	}
	for name, tok := range map[string]string{"rotated": second.RefreshToken, "other device": other.RefreshToken} {
		if _, err := svc.Refresh(ctx, tok); !errors.Is(err, domain.ErrSessionEnded) {
			t.Errorf("%s token after a replay: %v", name, err)
		}
	}
	if _, err := svc.Refresh(ctx, "made-up"); !errors.Is(err, domain.ErrSessionEnded) {
		t.Errorf("unknown token: %v", err)
	}
	third, _ := svc.Login(ctx, u.Email, "correct-horse-42", "")
	clock.Advance(time.Hour)
	if _, err := svc.Refresh(ctx, third.RefreshToken); !errors.Is(err, domain.ErrSessionEnded) {
		t.Errorf("expired token: %v", err)
	}
}

func TestFailedLoginsAreThrottledPerAccountAndPerAddress(t *testing.T) {
	ctx := context.Background()
	svc, _, clock := newServiceAt(t) // 3 failures a minute
	register(t, svc, "ann@example.com")
	register(t, svc, "bob@example.com")

	for range 3 {
		if _, err := svc.Login(ctx, "ann@example.com", "wrong-password-1", "10.0.0.1"); !errors.Is(err, domain.ErrInvalidCredentials) {
			t.Fatalf("failure: %v", err)
		}
	}
	var throttled *domain.ThrottledError
	if _, err := svc.Login(ctx, "ann@example.com", "correct-horse-42", "10.0.0.2"); !errors.As(err, &throttled) || throttled.RetryAfter != time.Minute {
		t.Fatalf("right password, blocked account, other address: %v", err)
	}
	// The address is blocked too, for any account.
	if _, err := svc.Login(ctx, "bob@example.com", "correct-horse-42", "10.0.0.1"); !errors.As(err, &throttled) {
		t.Errorf("blocked address, other account: %v", err)
	}
	if _, err := svc.Login(ctx, "bob@example.com", "correct-horse-42", "10.0.0.3"); err != nil {
		t.Errorf("other account, other address: %v", err)
	}
	clock.Advance(59 * time.Second)
	if _, err := svc.Login(ctx, "ann@example.com", "correct-horse-42", "10.0.0.1"); !errors.As(err, &throttled) || throttled.RetryAfter != time.Second {
		t.Errorf("one second before the window ends: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := svc.Login(ctx, "ann@example.com", "correct-horse-42", "10.0.0.1"); err != nil {
		t.Errorf("after the window: %v", err)
	}
}
