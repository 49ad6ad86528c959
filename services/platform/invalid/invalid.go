// Package invalid is the error a domain returns when input breaks its rules,
// with one message per field. httpapi.WriteError answers it with a 400
// problem listing the fields, so no service maps it itself.
package invalid

import "strings"

// Field is one broken rule, named by the field's JSON name.
type Field struct {
	Name    string
	Message string
}

// Error lists every rule an input breaks.
type Error struct{ Fields []Field }

// New returns an Error for one field.
func New(field, message string) *Error {
	return &Error{Fields: []Field{{field, message}}}
}

func (e *Error) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Name + " " + f.Message
	}
	return "invalid input: " + strings.Join(msgs, "; ")
}

// Add records a broken rule.
func (e *Error) Add(field, message string) { e.Fields = append(e.Fields, Field{field, message}) }

// OrNil returns e if it holds any field, nil otherwise.
func (e *Error) OrNil() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}
