// Package ports is the user service's HTTP interface: routes, request and
// response shapes, and the mapping of domain errors to HTTP statuses.
package ports

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/daprshop/platform/daprjobs"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/platform/sidecar"
	"github.com/daprshop/platform/validate"
	"github.com/daprshop/user/app"
	"github.com/daprshop/user/domain"
)

// HTTP serves the user API. Callers reach it through the gateway, which sets
// the identity headers from a verified token; see package identity.
type HTTP struct {
	svc            *app.Service
	v              *validate.Validator
	sessionCallers []string
	jobs           daprjobs.Run
}

// NewHTTP returns the handlers for svc; only sessionCallers (app IDs, the
// gateway) may read an account's session version; jobs does the app's
// Dapr jobs (the outbox's sweep).
func NewHTTP(svc *app.Service, v *validate.Validator, sessionCallers []string, jobs daprjobs.Run) *HTTP {
	return &HTTP{svc: svc, v: v, sessionCallers: sessionCallers, jobs: jobs}
}

// Register adds the routes to r.
func (h *HTTP) Register(r *mux.Router) {
	r.HandleFunc("/users/register", h.register).Methods(http.MethodPost)
	r.HandleFunc("/users/login", h.login).Methods(http.MethodPost)
	r.HandleFunc("/users/refresh", h.refresh).Methods(http.MethodPost)
	r.HandleFunc("/users/logout", h.logout).Methods(http.MethodPost)
	r.HandleFunc("/users/me", h.me).Methods(http.MethodGet)
	r.Handle("/users/{id}/session", sidecar.OnlyCallers(h.sessionCallers, http.HandlerFunc(h.session))).Methods(http.MethodGet)
	r.HandleFunc("/users/{id}", h.get).Methods(http.MethodGet)
	r.HandleFunc("/users/{id}", h.update).Methods(http.MethodPut)
	r.HandleFunc("/users/{id}", h.delete).Methods(http.MethodDelete)
	daprjobs.Route(r, h.jobs, httpapi.WriteError)
}

// The tags catch malformed input early, all fields at once; the domain
// enforces the full rules (email normalisation, password policy) again.
type registerRequest struct {
	Email    string `json:"email" validate:"required,email,max=254"`
	Name     string `json:"name" validate:"required,max=100"`
	Password string `json:"password" validate:"required,min=10,max=128"`
}

type loginRequest struct {
	Email    string `json:"email" validate:"required,max=254"`
	Password string `json:"password" validate:"required,max=128"`
}

type refreshRequest struct {
	RefreshToken string `json:"refreshToken" validate:"required,max=128"`
}

type updateRequest struct {
	Email           *string `json:"email" validate:"omitempty,email,max=254"`
	Name            *string `json:"name" validate:"omitempty,max=100"`
	Password        *string `json:"password" validate:"omitempty,min=10,max=128"`
	Role            *string `json:"role" validate:"omitempty,oneof=customer admin"`
	CurrentPassword string  `json:"currentPassword" validate:"max=128"`
}

// userResponse is the public shape of an account: never the password hash.
type userResponse struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type sessionResponse struct {
	AccessToken      string       `json:"accessToken"`
	TokenType        string       `json:"tokenType"`
	ExpiresAt        time.Time    `json:"expiresAt"`
	RefreshToken     string       `json:"refreshToken"`
	RefreshExpiresAt time.Time    `json:"refreshExpiresAt"`
	User             userResponse `json:"user"`
}

func writeSession(w http.ResponseWriter, s *app.Session) {
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, sessionResponse{
		AccessToken: s.AccessToken, TokenType: "Bearer", ExpiresAt: s.ExpiresAt,
		RefreshToken: s.RefreshToken, RefreshExpiresAt: s.RefreshExpiresAt, User: toResponse(s.User),
	})
}

func toResponse(u *domain.User) userResponse {
	return userResponse{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func (h *HTTP) register(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := h.v.Decode(w, r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	u, err := h.svc.Register(r.Context(), app.RegisterInput{Email: req.Email, Name: req.Name, Password: req.Password})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/users/"+u.ID)
	httpapi.WriteJSON(w, http.StatusCreated, toResponse(u))
}

func (h *HTTP) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := h.v.Decode(w, r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	s, err := h.svc.Login(r.Context(), req.Email, req.Password, r.Header.Get(identity.HeaderClientAddress))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeSession(w, s)
}

func (h *HTTP) refresh(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := h.v.Decode(w, r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	s, err := h.svc.Refresh(r.Context(), req.RefreshToken)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeSession(w, s)
}

func (h *HTTP) logout(w http.ResponseWriter, r *http.Request) {
	who, ok := principal(w, r)
	if !ok {
		return
	}
	if err := h.svc.Logout(r.Context(), who); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// session answers the gateway's check of a token's session version.
func (h *HTTP) session(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	v, err := h.svc.SessionVersion(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"userId": id, "sessionVersion": v})
}

func (h *HTTP) me(w http.ResponseWriter, r *http.Request) {
	who, ok := principal(w, r)
	if !ok {
		return
	}
	u, err := h.svc.Get(r.Context(), who, who.UserID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toResponse(u))
}

func (h *HTTP) get(w http.ResponseWriter, r *http.Request) {
	who, ok := principal(w, r)
	if !ok {
		return
	}
	u, err := h.svc.Get(r.Context(), who, mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toResponse(u))
}

func (h *HTTP) update(w http.ResponseWriter, r *http.Request) {
	who, ok := principal(w, r)
	if !ok {
		return
	}
	var req updateRequest
	if err := h.v.Decode(w, r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	u, err := h.svc.Update(r.Context(), who, mux.Vars(r)["id"], app.UpdateInput{
		Email: req.Email, Name: req.Name, Password: req.Password, Role: req.Role, CurrentPassword: req.CurrentPassword,
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toResponse(u))
}

func (h *HTTP) delete(w http.ResponseWriter, r *http.Request) {
	who, ok := principal(w, r)
	if !ok {
		return
	}
	if err := h.svc.Delete(r.Context(), who, mux.Vars(r)["id"]); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// principal reads the identity the gateway forwarded, or answers 401.
func principal(w http.ResponseWriter, r *http.Request) (identity.Principal, bool) {
	p, ok := identity.FromHeaders(r.Header)
	if !ok {
		httpapi.WriteError(w, r, problem.New(http.StatusUnauthorized, "sign in first: send a bearer token to the gateway"))
	}
	return p, ok
}
