package adapters

import (
	"context"
	"sync"

	"github.com/daprshop/user/domain"
)

// MemoryUserStore is an in-process Repository for unit tests of the use cases
// and handlers. The same contract suite (repotest) runs against it and
// against DaprUserStore, so the two behave alike.
type MemoryUserStore struct {
	mu      sync.Mutex
	byID    map[string]domain.User
	byEmail map[string]string
}

// NewMemoryUserStore returns an empty store.
func NewMemoryUserStore() *MemoryUserStore {
	return &MemoryUserStore{byID: map[string]domain.User{}, byEmail: map[string]string{}}
}

func (m *MemoryUserStore) Create(_ context.Context, u *domain.User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, taken := m.byEmail[u.Email]; taken {
		return domain.ErrEmailTaken
	}
	m.byID[u.ID] = *u
	m.byEmail[u.Email] = u.ID
	return nil
}

func (m *MemoryUserStore) Get(_ context.Context, id string) (*domain.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.byID[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	return &u, nil
}

func (m *MemoryUserStore) GetByEmail(ctx context.Context, email string) (*domain.User, error) {
	m.mu.Lock()
	id, ok := m.byEmail[email]
	m.mu.Unlock()
	if !ok {
		return nil, domain.ErrNotFound
	}
	return m.Get(ctx, id)
}

func (m *MemoryUserStore) Update(_ context.Context, id string, change func(*domain.User) error) (*domain.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.byID[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	u := cur
	if err := change(&u); err != nil {
		return nil, err
	}
	if u.Email != cur.Email {
		if _, taken := m.byEmail[u.Email]; taken {
			return nil, domain.ErrEmailTaken
		}
		delete(m.byEmail, cur.Email)
		m.byEmail[u.Email] = id
	}
	m.byID[id] = u
	return &u, nil
}

func (m *MemoryUserStore) Delete(_ context.Context, id string) (*domain.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.byID[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	delete(m.byID, id)
	delete(m.byEmail, u.Email)
	return &u, nil
}
