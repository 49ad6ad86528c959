// Package ports is the notifier's HTTP interface: the routes Dapr delivers
// subscribed events to (declared in components/subscriptions.yaml), and the
// dead-letter API for operators.
package ports

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/daprshop/notification/app"
	"github.com/daprshop/platform/daprjobs"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/platform/sidecar"
)

// HTTP serves the notifier.
type HTTP struct {
	n *app.Notifier
}

// NewHTTP returns the handlers.
func NewHTTP(n *app.Notifier) *HTTP { return &HTTP{n: n} }

// Register adds the routes to r.
func (h *HTTP) Register(r *mux.Router) {
	r.HandleFunc("/events/{topic}", h.fromPubSub(h.event)).Methods(http.MethodPost)
	r.HandleFunc("/deadletters", h.fromPubSub(h.deadLetter)).Methods(http.MethodPost)
	r.HandleFunc("/admin/deadletters", h.operator(h.list)).Methods(http.MethodGet)
	r.HandleFunc("/admin/deadletters/{id}/replay", h.operator(h.replay)).Methods(http.MethodPost)
	daprjobs.Route(r, daprjobs.Counting(SweepJob, "sent", h.n.Sweep), httpapi.WriteError)
}

// SweepJob is the recurring job that finishes the claims whose sender died.
const SweepJob = "claim-sweep"

func (h *HTTP) event(w http.ResponseWriter, r *http.Request, e app.Event) {
	answer(w, h.n.Handle(r.Context(), mux.Vars(r)["topic"], e))
}

func (h *HTTP) deadLetter(w http.ResponseWriter, r *http.Request, e app.Event) {
	answer(w, h.n.HandleDeadLetter(r.Context(), e))
}

// fromPubSub admits deliveries from this app's own sidecar (they carry no
// caller ID, unlike service invocations from other apps) and decodes the
// CloudEvent. A body that is not a CloudEvent can never succeed: DROP.
func (h *HTTP) fromPubSub(next func(http.ResponseWriter, *http.Request, app.Event)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(sidecar.CallerHeader) != "" {
			httpapi.WriteError(w, r, problem.New(http.StatusForbidden, "events are delivered by pub/sub only"))
			return
		}
		var e cloudEvent
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&e); err != nil || e.ID == "" {
			answer(w, app.Undeliverable)
			return
		}
		next(w, r, app.Event{ID: e.ID, Type: e.Type, Source: e.Source, Topic: e.Topic, Data: e.Data})
	}
}

// cloudEvent is the part of a delivered CloudEvent the notifier reads.
type cloudEvent struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Source string          `json:"source"`
	Topic  string          `json:"topic"`
	Data   json.RawMessage `json:"data"`
}

// verdicts are the statuses Dapr's pub/sub takes for each outcome: SUCCESS
// ends the message, RETRY has it redelivered per the resiliency policy
// (then dead-lettered), DROP dead-letters it at once.
var verdicts = map[app.Outcome]string{app.Handled: "SUCCESS", app.TryAgain: "RETRY", app.Undeliverable: "DROP"}

// answer replies in the form Dapr's pub/sub expects: 200 and a status.
func answer(w http.ResponseWriter, o app.Outcome) {
	v, ok := verdicts[o]
	if !ok {
		v = "RETRY" // an outcome this port does not know: never lose the message
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": v})
}

// deadLetterResponse is the API's view of a dead letter.
type deadLetterResponse struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	Type       string          `json:"type"`
	Data       json.RawMessage `json:"data"`
	Deliveries int             `json:"deliveries"`
	ArrivedAt  time.Time       `json:"arrivedAt"`
	Replays    int             `json:"replays"`
}

func toResponse(d app.DeadLetter) deadLetterResponse { return deadLetterResponse(d) }

func (h *HTTP) list(w http.ResponseWriter, r *http.Request) {
	dl, err := h.n.DeadLetters(r.Context())
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	items := make([]deadLetterResponse, len(dl))
	for i, d := range dl {
		items[i] = toResponse(d)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"items": items, "total": len(dl)})
}

func (h *HTTP) replay(w http.ResponseWriter, r *http.Request) {
	d, err := h.n.Replay(r.Context(), mux.Vars(r)["id"])
	if errors.Is(err, app.ErrNotFound) {
		err = problem.New(http.StatusNotFound, "no such dead letter")
	}
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, toResponse(*d))
}

// operator admits calls through this app's own sidecar (they carry no
// caller ID: an operator on the host, `make deadletters`) and admins the
// gateway identified; other apps are refused.
func (h *HTTP) operator(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, ok := identity.FromHeaders(r.Header)
		if r.Header.Get(sidecar.CallerHeader) != "" && !(ok && who.IsAdmin()) {
			httpapi.WriteError(w, r, problem.New(http.StatusForbidden, "dead letters are for operators and admins"))
			return
		}
		next(w, r)
	}
}
