package domain

import (
	"errors"
	"fmt"
	"time"
)

// Stock is the sellable quantity of one product and the units held for
// orders. Every change is idempotent per order: holding twice for one order
// holds once, releasing a hold that is gone does nothing. That is what makes
// reservations safe to retry and to resume after a crash.
type Stock struct {
	// Available can still be reserved.
	Available int64
	// Holds are units reserved by orders, not yet committed or released.
	Holds map[string]int64
	// Sold counts committed units.
	Sold int64
	// Returns are units of committed orders put back on sale (a paid order
	// cancelled before shipping), by order: the record that makes a return
	// idempotent. ReturnedAt is when each was made (unix seconds); marks
	// older than ReturnMemory are dropped at the next return.
	Returns    map[string]int64
	ReturnedAt map[string]int64
	Version    int64
}

// ReturnMemory is how long a return is remembered against a second one for
// the same order. A return is retried for seconds, by the checkout's
// compensation; after that its reservation says it is done.
const ReturnMemory = 30 * 24 * time.Hour

// ErrInsufficientStock means a hold asked for more than is available.
var ErrInsufficientStock = errors.New("insufficient stock")

// Hold reserves qty for orderID. It returns whether it changed the stock.
func (s *Stock) Hold(orderID string, qty int64) (bool, error) {
	if _, held := s.Holds[orderID]; held {
		return false, nil
	}
	if qty <= 0 {
		return false, fmt.Errorf("hold of %d units", qty)
	}
	if s.Available < qty {
		return false, ErrInsufficientStock
	}
	if s.Holds == nil {
		s.Holds = map[string]int64{}
	}
	s.Available -= qty
	s.Holds[orderID] = qty
	s.Version++
	return true, nil
}

// Release returns orderID's held units to Available.
func (s *Stock) Release(orderID string) bool {
	qty, held := s.Holds[orderID]
	if !held {
		return false
	}
	delete(s.Holds, orderID)
	s.Available += qty
	s.Version++
	return true
}

// Commit turns orderID's hold into a sale.
func (s *Stock) Commit(orderID string) bool {
	qty, held := s.Holds[orderID]
	if !held {
		return false
	}
	delete(s.Holds, orderID)
	s.Sold += qty
	s.Version++
	return true
}

// Return puts qty units sold to orderID back on sale, once per order, at
// now; it forgets returns older than ReturnMemory.
func (s *Stock) Return(orderID string, qty int64, now time.Time) bool {
	if _, done := s.Returns[orderID]; done {
		return false
	}
	if s.Returns == nil {
		s.Returns = map[string]int64{}
	}
	if s.ReturnedAt == nil {
		s.ReturnedAt = map[string]int64{}
	}
	forgetBefore := now.Add(-ReturnMemory).Unix()
	for id := range s.Returns {
		at, known := s.ReturnedAt[id]
		switch {
		case !known:
			s.ReturnedAt[id] = now.Unix() // made before marks had a time: from now on
		case at < forgetBefore:
			delete(s.Returns, id)
			delete(s.ReturnedAt, id)
		}
	}
	s.Returns[orderID] = qty
	s.ReturnedAt[orderID] = now.Unix()
	s.Available += qty
	s.Sold -= qty
	s.Version++
	return true
}

// Set replaces the available quantity (an admin's stock count). Holds stay.
func (s *Stock) Set(available int64) bool {
	if s.Available == available {
		return false
	}
	s.Available = available
	s.Version++
	return true
}
