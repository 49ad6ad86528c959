package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/daprshop/product/domain"
)

func TestReservationMovesOnlyAlongItsLife(t *testing.T) {
	now := time.Now()
	r := &domain.Reservation{Status: domain.StatusPending}
	if r.Advance(domain.StatusPending, domain.StatusCommitted, now) || r.Status != domain.StatusPending {
		t.Fatal("pending jumped to committed")
	}
	if r.Advance(domain.StatusReserved, domain.StatusCommitting, now) {
		t.Fatal("moved from a status it was not at")
	}
	if err := r.ClaimCommit(now); !errors.Is(err, domain.ErrReservationBusy) {
		t.Fatalf("commit of a pending reservation: %v", err)
	}
	if !r.Advance(domain.StatusPending, domain.StatusReserved, now) || r.Reject("late", now) {
		t.Fatal("reserved, then rejected")
	}
	if err := r.ClaimCommit(now); err != nil || r.Status != domain.StatusCommitting {
		t.Fatalf("claim commit: %v %s", err, r.Status)
	}
	if err := r.ClaimClose(domain.StatusReleasing, now); !errors.Is(err, domain.ErrReservationBusy) {
		t.Fatalf("release while committing: %v", err)
	}
	r.Advance(domain.StatusCommitting, domain.StatusCommitted, now)
	if err := r.ClaimClose(domain.StatusExpiring, now); !errors.Is(err, domain.ErrReservationClosed) {
		t.Fatalf("expiry of a committed reservation: %v", err)
	}
	released := &domain.Reservation{Status: domain.StatusReleased}
	if err := released.ClaimClose(domain.StatusExpiring, now); err != nil || released.Status != domain.StatusReleased {
		t.Fatalf("expiry of a released reservation: %v %s", err, released.Status)
	}
}
