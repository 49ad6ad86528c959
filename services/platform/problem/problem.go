// Package problem writes RFC 7807 problem+json error responses, the one error
// format every service and the gateway answer with.
package problem

import (
	"encoding/json"
	"net/http"
)

// ContentType is the media type of an RFC 7807 body.
const ContentType = "application/problem+json"

// TypeUnavailable is the type of a 503 for a store or service that did not
// answer; the answer carries Retry-After.
const TypeUnavailable = "urn:daprshop:problem:unavailable"

// FieldError names one invalid field of a request body and says why.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem is an RFC 7807 problem detail. It implements error so that use cases
// and decoders can return one and a handler can write it unchanged.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"requestId,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Title + ": " + p.Detail
	}
	return p.Title
}

// New returns a problem for status with the standard title and "about:blank" type.
func New(status int, detail string) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

// Typed is New with a problem type of its own: a URI that names the cause,
// so a caller can act on it without parsing the detail.
func Typed(status int, typ, detail string) *Problem {
	p := New(status, detail)
	p.Type = typ
	return p
}

// Invalid is the 400 answer for a body that failed validation.
func Invalid(errs []FieldError) *Problem {
	p := New(http.StatusBadRequest, "the request has invalid fields")
	p.Errors = errs
	return p
}

// ForwardedPrefixHeader carries the path prefix a proxy removed (the gateway
// sends "/api"), so that "instance" names the path the client called.
const ForwardedPrefixHeader = "X-Forwarded-Prefix"

// Write sends p. The instance is the request path; requestID, when set, lets a
// caller quote the failing request to an operator.
func Write(w http.ResponseWriter, r *http.Request, requestID string, p *Problem) {
	out := *p
	if out.Instance == "" {
		out.Instance = r.Header.Get(ForwardedPrefixHeader) + r.URL.Path
	}
	if out.RequestID == "" {
		out.RequestID = requestID
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(out.Status)
	_ = json.NewEncoder(w).Encode(out)
}
