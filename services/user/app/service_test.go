package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/fakeclock"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/invalid"
	"github.com/daprshop/platform/outbox"
	"github.com/daprshop/platform/token"
	"github.com/daprshop/user/adapters"
	"github.com/daprshop/user/app"
	"github.com/daprshop/user/domain"
)

// Hand-written fakes of the narrow interfaces.

type plainHasher struct{}

func (plainHasher) Hash(pw string) (string, error) { return "hashed:" + pw, nil }
func (plainHasher) Verify(hash, pw string) (bool, error) {
	return hash == "hashed:"+pw, nil
}

type fixedIssuer struct{}

func (fixedIssuer) Issue(sub token.Subject) (string, time.Time, error) {
	return fmt.Sprintf("token-for-%s-%s-v%d", sub.ID, sub.Role, sub.SessionVersion), time.Unix(2e9, 0), nil
}

type recorder struct {
	mu     sync.Mutex
	events []events.Event
	fail   error
}

// recorder is the outbox as the use cases see it: what was expected,
// announced and forgotten. (The outbox itself is tested against a real
// store in platform/outbox.)
func (r *recorder) Expect(_ context.Context, e events.Event) (outbox.Ticket, error) {
	return outbox.Ticket{}, r.fail
}

func (r *recorder) Announce(_ context.Context, _ outbox.Ticket, e events.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) Forget(context.Context, outbox.Ticket, error) {}

func newService(t *testing.T) (*app.Service, *recorder) {
	svc, rec, _ := newServiceAt(t)
	return svc, rec
}

// newServiceAt allows 3 failed logins a minute.
func newServiceAt(t *testing.T) (*app.Service, *recorder, *fakeclock.Clock) {
	t.Helper()
	rec := &recorder{}
	n := 0
	// The time the service and its throttle see; tests move it.
	clock := fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	throttle := adapters.NewMemoryLoginThrottle(adapters.LoginPolicy{MaxFailures: 3, Window: time.Minute, Now: clock.Now})
	svc, err := app.NewService(app.Deps{
		Repo: adapters.NewMemoryUserStore(), Hasher: plainHasher{}, Tokens: fixedIssuer{}, Events: rec,
		NewID:      func() string { n++; return fmt.Sprintf("id-%d", n) },
		Now:        clock.Now,
		Refresh:    adapters.NewMemoryRefreshTokens(),
		RefreshTTL: time.Hour,
		Throttle:   throttle,
		AdminEmail: " Boss@Example.com ",
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, rec, clock
}

func register(t *testing.T, svc *app.Service, email string) *domain.User {
	t.Helper()
	u, err := svc.Register(context.Background(), app.RegisterInput{Email: email, Name: "Ann", Password: "correct-horse-42"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRegister(t *testing.T) {
	ctx := context.Background()
	svc, rec := newService(t)

	u := register(t, svc, "  Ann@Example.COM ")
	if u.Email != "ann@example.com" || u.Role != identity.RoleCustomer || u.PasswordHash != "hashed:correct-horse-42" {
		t.Fatalf("user = %+v", u)
	}
	if len(rec.events) != 1 || rec.events[0].Topic != events.TopicUserRegistered || rec.events[0].ID != "user.registered/"+u.ID {
		t.Fatalf("events = %+v", rec.events)
	}
	if data := rec.events[0].Data.(events.UserRegistered); data.Email != u.Email || data.UserID != u.ID {
		t.Errorf("payload = %+v", data)
	}

	if _, err := svc.Register(ctx, app.RegisterInput{Email: "ann@example.com", Name: "Other", Password: "another-pass-1"}); !errors.Is(err, domain.ErrEmailTaken) {
		t.Errorf("duplicate: %v", err)
	}
	if len(rec.events) != 1 {
		t.Error("a refused registration published an event")
	}
	// The bootstrap admin's address cannot be registered, even before the
	// admin exists: registering it used to be how admins were made.
	if _, err := svc.Register(ctx, app.RegisterInput{Email: "BOSS@example.com", Name: "Boss", Password: "correct-horse-42"}); !errors.Is(err, domain.ErrEmailTaken) {
		t.Errorf("registering the admin address: %v", err)
	}
}

func TestEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	if _, err := svc.EnsureAdmin(ctx, "short"); err == nil {
		t.Error("a password below the policy was accepted")
	}
	created, err := svc.EnsureAdmin(ctx, "bootstrap-secret-42")
	if err != nil || !created {
		t.Fatalf("EnsureAdmin = %v, %v", created, err)
	}
	s, err := svc.Login(ctx, "boss@example.com", "bootstrap-secret-42", "")
	if err != nil || s.User.Role != identity.RoleAdmin {
		t.Fatalf("bootstrap admin login = %+v, %v", s, err)
	}
	if created, err := svc.EnsureAdmin(ctx, "another-secret-43"); err != nil || created {
		t.Errorf("second EnsureAdmin = %v, %v; want the account left alone", created, err)
	}
	if _, err := svc.Login(ctx, "boss@example.com", "bootstrap-secret-42", ""); err != nil {
		t.Errorf("the admin's password changed on restart: %v", err)
	}
}

func TestRegisterReportsEveryInvalidField(t *testing.T) {
	svc, _ := newService(t)
	_, err := svc.Register(context.Background(), app.RegisterInput{Email: "Ann <ann@x.io>", Name: " ", Password: "short"})
	var verr *invalid.Error
	if !errors.As(err, &verr) || len(verr.Fields) != 3 {
		t.Fatalf("err = %v", err)
	}
}

// The event is written down before the account: when it cannot be, no
// account is made (a publish failure after the commit is the outbox's to
// retry, and never reaches the use case).
func TestRegisterMakesNothingWhenItsEventCannotBeWrittenDown(t *testing.T) {
	svc, rec := newService(t)
	rec.fail = errors.New("store down")
	in := app.RegisterInput{Email: "ann@example.com", Name: "Ann", Password: "correct-horse-42"}
	if _, err := svc.Register(context.Background(), in); err == nil {
		t.Fatal("registered without its event written down")
	}
	rec.fail = nil
	register(t, svc, "ann@example.com") // the address was not taken
	if len(rec.events) != 1 {
		t.Fatalf("events %v", rec.events)
	}
}

func TestLogin(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	u := register(t, svc, "ann@example.com")

	s, err := svc.Login(ctx, "ANN@example.com", "correct-horse-42", "")
	if err != nil || s.AccessToken != "token-for-"+u.ID+"-customer-v0" || s.User.ID != u.ID || s.RefreshToken == "" {
		t.Fatalf("login = %+v, %v", s, err)
	}
	for _, tt := range []struct{ email, pw string }{
		{"ann@example.com", "wrong-password-1"},
		{"nobody@example.com", "correct-horse-42"},
		{"not an email", "correct-horse-42"},
	} {
		if _, err := svc.Login(ctx, tt.email, tt.pw, ""); !errors.Is(err, domain.ErrInvalidCredentials) {
			t.Errorf("Login(%q, %q) = %v, want ErrInvalidCredentials", tt.email, tt.pw, err)
		}
	}
}

func TestAccessRules(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	ann := register(t, svc, "ann@example.com")
	bob := register(t, svc, "bob@example.com")
	asAnn := identity.Principal{UserID: ann.ID, Role: identity.RoleCustomer}
	admin := identity.Principal{UserID: "root", Role: identity.RoleAdmin}
	name := func(s string) *string { return &s }

	if _, err := svc.Get(ctx, asAnn, bob.ID); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("ann reads bob: %v", err)
	}
	if _, err := svc.Get(ctx, admin, bob.ID); err != nil {
		t.Errorf("admin reads bob: %v", err)
	}
	if _, err := svc.Update(ctx, asAnn, bob.ID, app.UpdateInput{Name: name("x")}); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("ann changes bob: %v", err)
	}
	if _, err := svc.Update(ctx, asAnn, ann.ID, app.UpdateInput{Role: name(identity.RoleAdmin)}); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("ann makes herself admin: %v", err)
	}
	if u, err := svc.Update(ctx, admin, bob.ID, app.UpdateInput{Role: name(identity.RoleAdmin)}); err != nil || u.Role != identity.RoleAdmin {
		t.Errorf("admin promotes bob: %+v, %v", u, err)
	}
	if err := svc.Delete(ctx, asAnn, bob.ID); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("ann deletes bob: %v", err)
	}
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	svc, rec := newService(t)
	ann := register(t, svc, "ann@example.com")
	asAnn := identity.Principal{UserID: ann.ID, Role: identity.RoleCustomer}
	s := func(v string) *string { return &v }

	_, err := svc.Update(ctx, asAnn, ann.ID, app.UpdateInput{Password: s("new-password-9")})
	var verr *invalid.Error
	if !errors.As(err, &verr) || verr.Fields[0].Name != "currentPassword" {
		t.Fatalf("password change without the current one: %v", err)
	}
	u, err := svc.Update(ctx, asAnn, ann.ID, app.UpdateInput{Name: s(" Ann B "), Email: s("ann.b@example.com"),
		Password: s("new-password-9"), CurrentPassword: "correct-horse-42"})
	if err != nil || u.Name != "Ann B" || u.Email != "ann.b@example.com" || u.Version != 2 {
		t.Fatalf("update = %+v, %v", u, err)
	}
	last := rec.events[len(rec.events)-1]
	if last.ID != "user.updated/"+ann.ID+"/2" || strings.Join(last.Data.(events.UserUpdated).Changed, ",") != "email,name,password" {
		t.Errorf("event = %+v", last)
	}
	if _, err := svc.Login(ctx, "ann.b@example.com", "new-password-9", ""); err != nil {
		t.Errorf("login with new credentials: %v", err)
	}
	before := len(rec.events)
	if _, err := svc.Update(ctx, asAnn, ann.ID, app.UpdateInput{Name: s("Ann B")}); err != nil || len(rec.events) != before {
		t.Errorf("a no-op update published an event or failed: %v", err)
	}
}

func TestDeletePublishes(t *testing.T) {
	ctx := context.Background()
	svc, rec := newService(t)
	ann := register(t, svc, "ann@example.com")
	if err := svc.Delete(ctx, identity.Principal{UserID: ann.ID, Role: identity.RoleCustomer}, ann.ID); err != nil {
		t.Fatal(err)
	}
	if last := rec.events[len(rec.events)-1]; last.Topic != events.TopicUserDeleted || last.Subject != ann.ID {
		t.Errorf("event = %+v", last)
	}
	if _, err := svc.Login(ctx, "ann@example.com", "correct-horse-42", ""); !errors.Is(err, domain.ErrInvalidCredentials) {
		t.Errorf("deleted account can log in: %v", err)
	}
}

func TestPasswordChangeChecksPolicyAgainstTheStoredEmail(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	u := register(t, svc, "annabelle@example.com")
	pw := "annabelle-2027"
	_, err := svc.Update(ctx, identity.Principal{UserID: u.ID, Role: identity.RoleCustomer}, u.ID,
		app.UpdateInput{Password: &pw, CurrentPassword: "correct-horse-42"})
	var verr *invalid.Error
	if !errors.As(err, &verr) || verr.Fields[0].Name != "password" {
		t.Fatalf("a password holding the email was accepted: %v", err)
	}
}
