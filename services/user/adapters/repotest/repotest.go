// Package repotest is the contract every app.Repository must meet. It runs
// against the in-memory store in unit tests and against the Dapr store,
// through a real sidecar, in integration tests.
package repotest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/daprshop/user/app"
	"github.com/daprshop/user/domain"
)

// Run runs the contract against the repository newRepo returns. Emails are
// unique per run, so a shared store may hold other data.
func Run(t *testing.T, newRepo func(t *testing.T) app.Repository) {
	ctx := context.Background()
	run := uuid.NewString()[:8]
	email := func(name string) string { return fmt.Sprintf("%s.%s@example.com", name, run) }
	mk := func(t *testing.T, addr string) *domain.User {
		t.Helper()
		u, err := domain.NewUser(uuid.NewString(), addr, "Test", "hash", "customer", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return u
	}

	t.Run("create then read by id and by email", func(t *testing.T) {
		r := newRepo(t)
		u := mk(t, email("ann"))
		if err := r.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := r.Get(ctx, u.ID)
		if err != nil || got.Email != u.Email || got.PasswordHash != "hash" || got.Version != 1 {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		got, err = r.GetByEmail(ctx, u.Email)
		if err != nil || got.ID != u.ID {
			t.Fatalf("GetByEmail = %+v, %v", got, err)
		}
	})

	t.Run("unknown ids and emails are not found", func(t *testing.T) {
		r := newRepo(t)
		id := uuid.NewString()
		if _, err := r.Get(ctx, id); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("Get: %v", err)
		}
		if _, err := r.GetByEmail(ctx, email("nobody")); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("GetByEmail: %v", err)
		}
		if _, err := r.Update(ctx, id, func(*domain.User) error { return nil }); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("Update: %v", err)
		}
		if _, err := r.Delete(ctx, id); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("Delete: %v", err)
		}
	})

	t.Run("a taken email is refused and the loser leaves no account", func(t *testing.T) {
		r := newRepo(t)
		first, second := mk(t, email("dup")), mk(t, email("dup"))
		if err := r.Create(ctx, first); err != nil {
			t.Fatal(err)
		}
		if err := r.Create(ctx, second); !errors.Is(err, domain.ErrEmailTaken) {
			t.Fatalf("second Create: %v, want ErrEmailTaken", err)
		}
		if _, err := r.Get(ctx, second.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("losing account still stored: %v", err)
		}
	})

	t.Run("concurrent registrations of one email: exactly one wins", func(t *testing.T) {
		r := newRepo(t)
		addr := email("race")
		const n = 20
		var wins, taken atomic.Int32
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch err := r.Create(ctx, mk(t, addr)); {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, domain.ErrEmailTaken):
					taken.Add(1)
				default:
					t.Errorf("Create: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || taken.Load() != n-1 {
			t.Fatalf("%d wins and %d ErrEmailTaken, want 1 and %d", wins.Load(), taken.Load(), n-1)
		}
	})

	t.Run("changing email moves the claim", func(t *testing.T) {
		r := newRepo(t)
		u := mk(t, email("old"))
		if err := r.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		newAddr := email("new")
		got, err := r.Update(ctx, u.ID, func(u *domain.User) error { u.Email = newAddr; u.Touch(time.Now()); return nil })
		if err != nil || got.Email != newAddr || got.Version != 2 {
			t.Fatalf("Update = %+v, %v", got, err)
		}
		if _, err := r.GetByEmail(ctx, email("old")); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("old email still resolves: %v", err)
		}
		if got, err := r.GetByEmail(ctx, newAddr); err != nil || got.ID != u.ID {
			t.Errorf("new email: %+v, %v", got, err)
		}
		// The old address is free again.
		if err := r.Create(ctx, mk(t, email("old"))); err != nil {
			t.Errorf("old email not released: %v", err)
		}
	})

	t.Run("changing to a taken email changes nothing", func(t *testing.T) {
		r := newRepo(t)
		a, b := mk(t, email("a")), mk(t, email("b"))
		for _, u := range []*domain.User{a, b} {
			if err := r.Create(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		_, err := r.Update(ctx, b.ID, func(u *domain.User) error { u.Email = a.Email; u.Touch(time.Now()); return nil })
		if !errors.Is(err, domain.ErrEmailTaken) {
			t.Fatalf("Update: %v, want ErrEmailTaken", err)
		}
		if got, _ := r.Get(ctx, b.ID); got.Email != b.Email || got.Version != 1 {
			t.Errorf("b changed: %+v", got)
		}
		if got, _ := r.GetByEmail(ctx, a.Email); got == nil || got.ID != a.ID {
			t.Errorf("a lost its email: %+v", got)
		}
	})

	t.Run("concurrent updates lose no change", func(t *testing.T) {
		r := newRepo(t)
		u := mk(t, email("busy"))
		if err := r.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		const n = 10
		var ok atomic.Int64
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := r.Update(ctx, u.ID, func(u *domain.User) error {
					u.Name = fmt.Sprintf("writer %d", i)
					u.Touch(time.Now())
					return nil
				})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, domain.ErrConflict):
				default:
					t.Errorf("Update: %v", err)
				}
			}()
		}
		wg.Wait()
		got, err := r.Get(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Each successful update raised the version by one from what it read:
		// a lost update would leave the version below 1 + successes.
		if got.Version != 1+ok.Load() || ok.Load() == 0 {
			t.Fatalf("version %d after %d successful updates, want %d", got.Version, ok.Load(), 1+ok.Load())
		}
	})

	t.Run("delete removes the account and frees the email", func(t *testing.T) {
		r := newRepo(t)
		u := mk(t, email("gone"))
		if err := r.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		deleted, err := r.Delete(ctx, u.ID)
		if err != nil || deleted.ID != u.ID {
			t.Fatalf("Delete = %+v, %v", deleted, err)
		}
		if _, err := r.Get(ctx, u.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("Get after delete: %v", err)
		}
		if err := r.Create(ctx, mk(t, u.Email)); err != nil {
			t.Errorf("email not freed: %v", err)
		}
	})
}
