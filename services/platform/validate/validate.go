// Package validate decodes JSON request bodies and checks them with
// go-playground/validator, turning every failure into a 400 problem with one
// message per field, named as the client spelled it (the JSON name).
package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/daprshop/platform/problem"
)

// MaxBodyBytes caps a request body; larger bodies are refused with 413.
const MaxBodyBytes = 1 << 20

// Validator is safe for concurrent use; build one per process, since
// validator caches what it learns about each struct type.
type Validator struct {
	v *validator.Validate
}

// New returns a Validator that reports JSON field names.
func New() *Validator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		if name == "" {
			return f.Name
		}
		return name
	})
	return &Validator{v: v}
}

// Struct validates s and returns nil or a 400 problem listing every bad field.
func (v *Validator) Struct(s any) error {
	err := v.v.Struct(s)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return fmt.Errorf("validate: %w", err)
	}
	fields := make([]problem.FieldError, 0, len(verrs))
	for _, fe := range verrs {
		fields = append(fields, problem.FieldError{Field: fieldPath(fe), Message: message(fe)})
	}
	return problem.Invalid(fields)
}

// Decode reads a JSON body into dst (unknown fields and trailing data are
// errors) and validates it. Every failure is a *problem.Problem.
func (v *Validator) Decode(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return problem.New(http.StatusUnsupportedMediaType, "send the body as application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return problem.New(http.StatusBadRequest, "the body must hold a single JSON object")
	}
	return v.Struct(dst)
}

func decodeProblem(err error) *problem.Problem {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return problem.New(http.StatusBadRequest, "the body is empty; send a JSON object")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(http.StatusBadRequest, "the body is not valid JSON")
	case errors.As(err, &typ):
		return problem.Invalid([]problem.FieldError{{Field: typ.Field, Message: "must be a " + typ.Type.String()}})
	case errors.As(err, &tooBig):
		return problem.New(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body exceeds %d bytes", tooBig.Limit))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem.Invalid([]problem.FieldError{{Field: field, Message: "is not a known field"}})
	default:
		return problem.New(http.StatusBadRequest, "the body could not be read")
	}
}

// fieldPath drops the top-level struct name: "registerRequest.email" -> "email".
func fieldPath(fe validator.FieldError) string {
	ns := fe.Namespace()
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return fe.Field()
}

func message(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "email":
		return "must be a valid email address"
	case "min":
		if fe.Kind() == reflect.String {
			return "must be at least " + fe.Param() + " characters long"
		}
		return "must be at least " + fe.Param()
	case "max":
		if fe.Kind() == reflect.String {
			return "must be at most " + fe.Param() + " characters long"
		}
		return "must be at most " + fe.Param()
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "uuid", "uuid4", "uuid7":
		return "must be a UUID"
	default:
		return "is invalid (" + fe.Tag() + ")"
	}
}
