// Package pathid checks the IDs that travel in URL paths (accounts,
// products, orders, payments, reservations, dead letters): a letter or
// digit, then letters, digits and . _ : @ - only, at most 200. No slash, no
// percent sign, no space: an ID can never name another path, whether it
// comes from a route or from a request body and is sent on to another
// service.
package pathid

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"sort"

	"github.com/gorilla/mux"

	"github.com/daprshop/platform/invalid"
)

var valid = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$`)

// ErrInvalid is what Check returns for an ID that is not one.
var ErrInvalid = errors.New("must be 1 to 200 letters, digits or . _ : @ -, starting with a letter or digit")

// Check returns ErrInvalid unless id is a well-formed path ID.
func Check(id string) error {
	if !valid.MatchString(id) {
		return ErrInvalid
	}
	return nil
}

// Segment escapes a checked ID as one path segment, for a URL sent on.
func Segment(id string) string { return url.PathEscape(id) }

// Guard refuses a request whose route variables are not well-formed IDs
// with 400 and a message per variable, before any handler sees them. It is
// gorilla/mux middleware: it runs once a route has matched.
func Guard(writeError func(http.ResponseWriter, *http.Request, error)) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			vars := mux.Vars(r)
			names := make([]string, 0, len(vars))
			for name := range vars {
				names = append(names, name)
			}
			sort.Strings(names)
			var v invalid.Error
			for _, name := range names {
				if err := Check(vars[name]); err != nil {
					v.Add(name, err.Error())
				}
			}
			if err := v.OrNil(); err != nil {
				writeError(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
