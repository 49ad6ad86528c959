package validate_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/daprshop/platform/problem"
	"github.com/daprshop/platform/validate"
)

type signup struct {
	Email string `json:"email" validate:"required,email"`
	Name  string `json:"name" validate:"required,max=5"`
	Age   int    `json:"age" validate:"min=18"`
}

func TestDecode(t *testing.T) {
	v := validate.New()
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		fields      map[string]string
	}{
		{"valid", "application/json", `{"email":"a@b.co","name":"Ann","age":20}`, 0, nil},
		{"every invalid field at once", "application/json", `{"email":"nope","name":"Annabel","age":3}`, 400,
			map[string]string{"email": "must be a valid email address", "name": "must be at most 5 characters long", "age": "must be at least 18"}},
		{"missing required", "", `{"age":20}`, 400, map[string]string{"email": "is required", "name": "is required"}},
		{"unknown field", "application/json", `{"email":"a@b.co","name":"Ann","age":20,"admin":true}`, 400, map[string]string{"admin": "is not a known field"}},
		{"wrong type", "application/json", `{"email":"a@b.co","name":"Ann","age":"old"}`, 400, map[string]string{"age": "must be a int"}},
		{"malformed JSON", "application/json", `{"email":`, 400, nil},
		{"empty body", "application/json", ``, 400, nil},
		{"two objects", "application/json", `{"email":"a@b.co","name":"Ann","age":20}{}`, 400, nil},
		{"not JSON content type", "text/plain", `{}`, 415, nil},
		{"too large", "application/json", `{"name":"` + strings.Repeat("x", validate.MaxBodyBytes) + `"}`, 413, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			var dst signup
			err := v.Decode(httptest.NewRecorder(), r, &dst)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			var p *problem.Problem
			if !errors.As(err, &p) {
				t.Fatalf("want a *problem.Problem, got %T %v", err, err)
			}
			if p.Status != tt.status {
				t.Fatalf("status %d, want %d (%v)", p.Status, tt.status, p)
			}
			got := map[string]string{}
			for _, f := range p.Errors {
				got[f.Field] = f.Message
			}
			for field, msg := range tt.fields {
				if got[field] != msg {
					t.Errorf("field %q: message %q, want %q (all: %v)", field, got[field], msg, got)
				}
			}
			if tt.fields != nil && len(got) != len(tt.fields) {
				t.Errorf("fields %v, want exactly %v", got, tt.fields)
			}
		})
	}
}
