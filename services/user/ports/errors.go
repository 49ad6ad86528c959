package ports

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/user/app"
	"github.com/daprshop/user/domain"
)

// writeError is the one place domain errors become HTTP statuses
// (invalid.Error is answered by httpapi.WriteError).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var throttled *domain.ThrottledError
	switch {
	case errors.Is(err, domain.ErrNotFound):
		err = problem.New(http.StatusNotFound, "no such user")
	case errors.Is(err, domain.ErrEmailTaken):
		err = problem.New(http.StatusConflict, "an account with this email already exists")
	case errors.Is(err, domain.ErrInvalidCredentials):
		err = problem.New(http.StatusUnauthorized, "invalid email or password")
	case errors.Is(err, domain.ErrSessionEnded):
		w.Header().Set("WWW-Authenticate", `Bearer realm="daprshop", error="invalid_token"`)
		err = problem.New(http.StatusUnauthorized, err.Error())
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int((throttled.RetryAfter+time.Second-1)/time.Second)))
		err = problem.New(http.StatusTooManyRequests, throttled.Error())
	case errors.Is(err, domain.ErrForbidden):
		err = problem.New(http.StatusForbidden, "only the account's owner or an admin may do this")
	case errors.Is(err, app.ErrNotReady):
		err = problem.New(http.StatusServiceUnavailable, err.Error())
	case errors.Is(err, domain.ErrConflict):
		err = problem.New(http.StatusConflict, err.Error())
	}
	httpapi.WriteError(w, r, err)
}
