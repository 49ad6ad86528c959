package adapters

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/daprshop/platform/pathid"
	"github.com/daprshop/platform/sidecar"
)

// Sessions tells the gateway an account's current session version: a token
// carrying an older one was issued before a logout, a role, password or
// email change, and is refused. Answers come from the user service (GET
// /users/{id}/session, allowed to the gateway only by its access policy),
// through the gateway's sidecar, and are cached for at most ttl: so a
// revoked token stops working within ttl, and each signed-in user costs
// the user service at most one read per ttl, however busy they are.
type Sessions struct {
	base     string // the sidecar's invoke URL of the user app's methods
	apiToken sidecar.Config
	client   *http.Client
	ttl      time.Duration
	now      func() time.Time

	mu     sync.Mutex
	cache  map[string]sessionEntry
	flight singleflight.Group
}

type sessionEntry struct {
	version int64
	exists  bool
	at      time.Time
}

// maxSessionEntries bounds the cache: past it, it starts over empty.
const maxSessionEntries = 100_000

// NewSessions asks userApp through the sidecar sc; each read may take at
// most timeout.
func NewSessions(sc sidecar.Config, userApp string, ttl, timeout time.Duration) *Sessions {
	return &Sessions{
		base:     sc.HTTPBase() + "/v1.0/invoke/" + url.PathEscape(userApp) + "/method/users/",
		apiToken: sc,
		client:   &http.Client{Transport: newTransport(), Timeout: timeout},
		ttl:      ttl,
		now:      time.Now,
		cache:    map[string]sessionEntry{},
	}
}

// Current returns the account's session version, and false if the account
// no longer exists.
func (s *Sessions) Current(ctx context.Context, userID string) (int64, bool, error) {
	now := s.now()
	s.mu.Lock()
	e, ok := s.cache[userID]
	s.mu.Unlock()
	if ok && now.Sub(e.at) < s.ttl {
		return e.version, e.exists, nil
	}
	// Concurrent requests of one user share one read.
	v, err, _ := s.flight.Do(userID, func() (any, error) {
		e, err := s.read(ctx, userID)
		if err != nil {
			return nil, err
		}
		e.at = now
		s.mu.Lock()
		if len(s.cache) >= maxSessionEntries {
			s.cache = map[string]sessionEntry{}
		}
		s.cache[userID] = e
		s.mu.Unlock()
		return e, nil
	})
	if err != nil {
		return 0, false, err
	}
	e = v.(sessionEntry)
	return e.version, e.exists, nil
}

func (s *Sessions) read(ctx context.Context, userID string) (sessionEntry, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+pathid.Segment(userID)+"/session", nil)
	if err != nil {
		return sessionEntry{}, err
	}
	s.apiToken.Authorize(req.Header)
	resp, err := s.client.Do(req)
	if err != nil {
		return sessionEntry{}, fmt.Errorf("read session of %s: %w", userID, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		var body struct {
			SessionVersion int64 `json:"sessionVersion"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&body); err != nil {
			return sessionEntry{}, fmt.Errorf("read session of %s: %w", userID, err)
		}
		return sessionEntry{version: body.SessionVersion, exists: true}, nil
	case http.StatusNotFound:
		return sessionEntry{exists: false}, nil
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return sessionEntry{}, fmt.Errorf("read session of %s: %s: %s", userID, strconv.Quote(resp.Status), b)
	}
}
