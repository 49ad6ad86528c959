// Package invoke calls other services through the caller's own Dapr sidecar
// (service invocation over HTTP), with JSON bodies, a deadline on every call,
// the request ID propagated, and problem+json answers turned into errors.
package invoke

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/requestid"
	"github.com/daprshop/platform/sidecar"
	"github.com/daprshop/platform/tracecontext"
)

// Client invokes methods of other apps through one sidecar.
type Client struct {
	sidecar sidecar.Config
	http    *http.Client
	timeout time.Duration
}

// New invokes through the sidecar sc; each call may take at most timeout.
func New(sc sidecar.Config, timeout time.Duration) *Client {
	return &Client{
		sidecar: sc,
		http:    &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}},
		timeout: timeout,
	}
}

// Error is a non-2xx answer.
type Error struct {
	App, Method string
	Status      int
	Type        string // the problem's type, when the answer was a problem
	Detail      string // the problem's detail, or the body
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.App, e.Method, e.Status, e.Detail)
}

// Call is one request.
type Call struct {
	App    string
	Method string // HTTP method
	Path   string // the app's path, e.g. /products/42
	Body   any    // sent as JSON when not nil
	// As, when set, is sent as the gateway's identity headers: the service
	// acts on behalf of the user who started the work.
	As *identity.Principal
}

// Do sends c and decodes a 2xx JSON answer into out (when not nil). A non-2xx
// answer is an *Error; a transport failure or timeout is returned as it is.
func (cl *Client) Do(ctx context.Context, c Call, out any) error {
	ctx, cancel := context.WithTimeout(ctx, cl.timeout)
	defer cancel()
	var body io.Reader
	if c.Body != nil {
		b, err := json.Marshal(c.Body)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, cl.sidecar.HTTPBase()+"/v1.0/invoke/"+c.App+"/method"+c.Path, body)
	if err != nil {
		return err
	}
	if c.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	requestid.Inject(ctx, req.Header)
	tracecontext.Inject(ctx, req.Header)
	cl.sidecar.Authorize(req.Header)
	if c.As != nil {
		identity.Set(req.Header, *c.As)
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s %s: %w", c.App, c.Method, c.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{App: c.App, Method: c.Method + " " + c.Path, Status: resp.StatusCode, Detail: string(bytes.TrimSpace(data))}
		var p struct {
			Type   string `json:"type"`
			Detail string `json:"detail"`
		}
		if json.Unmarshal(data, &p) == nil {
			e.Type = p.Type
			if p.Detail != "" {
				e.Detail = p.Detail
			}
		}
		return e
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s %s: decode answer: %w", c.App, c.Method, c.Path, err)
		}
	}
	return nil
}
