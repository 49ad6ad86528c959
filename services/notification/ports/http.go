// Package ports is the notifier's HTTP interface: the routes Dapr delivers
// subscribed events to (declared in components/subscriptions.yaml), and the
// dead-letter API for operators.
package ports

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/daprshop/notification/app"
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
}

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
		var e app.Event
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&e); err != nil || e.ID == "" {
			answer(w, app.Drop)
			return
		}
		next(w, r, e)
	}
}

// answer replies in the form Dapr's pub/sub expects: 200 and a status.
func answer(w http.ResponseWriter, res app.Result) {
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": string(res)})
}

func (h *HTTP) list(w http.ResponseWriter, r *http.Request) {
	dl, err := h.n.DeadLetters(r.Context())
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"items": dl, "total": len(dl)})
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
	httpapi.WriteJSON(w, http.StatusAccepted, d)
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
