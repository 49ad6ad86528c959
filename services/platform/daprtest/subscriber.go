package daprtest

import (
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// CloudEvent is a delivered event as the subscriber received it.
type CloudEvent struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Source  string          `json:"source"`
	Subject string          `json:"subject"`
	Topic   string          `json:"topic"`
	Data    json.RawMessage `json:"data"`
}

// Inbox collects the events a test subscriber receives.
type Inbox struct {
	mu     sync.Mutex
	events []CloudEvent
	added  chan struct{}
}

// Subscribe starts an app that subscribes (programmatically, via
// /dapr/subscribe) to topics on the pub/sub component named pubsub, beside
// its own daprd loaded with resources, and returns what it receives.
func Subscribe(t testing.TB, appID, pubsub string, topics []string, opts Options) *Inbox {
	t.Helper()
	in := &Inbox{added: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dapr/subscribe", func(w http.ResponseWriter, _ *http.Request) {
		subs := make([]map[string]string, len(topics))
		for i, topic := range topics {
			subs[i] = map[string]string{"pubsubname": pubsub, "topic": topic, "route": "/events"}
		}
		_ = json.NewEncoder(w).Encode(subs)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("POST /events", func(w http.ResponseWriter, r *http.Request) {
		var ce CloudEvent
		if err := json.NewDecoder(r.Body).Decode(&ce); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		in.mu.Lock()
		in.events = append(in.events, ce)
		in.mu.Unlock()
		select {
		case in.added <- struct{}{}:
		default:
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "SUCCESS"})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	opts.AppID = appID
	opts.AppPort = ln.Addr().(*net.TCPAddr).Port
	opts.WaitForApp = true
	Start(t, opts)
	return in
}

// Wait returns the first received event match accepts, or fails the test
// after timeout.
func (in *Inbox) Wait(t testing.TB, timeout time.Duration, match func(CloudEvent) bool) CloudEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		in.mu.Lock()
		for _, e := range in.events {
			if match(e) {
				in.mu.Unlock()
				return e
			}
		}
		n := len(in.events)
		in.mu.Unlock()
		select {
		case <-in.added:
		case <-deadline:
			t.Fatalf("no matching event within %s (%d other events received)", timeout, n)
			return CloudEvent{}
		}
	}
}

// Received returns how many events arrived so far.
func (in *Inbox) Received() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.events)
}
