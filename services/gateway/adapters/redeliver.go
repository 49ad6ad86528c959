package adapters

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/daprshop/platform/logging"
	"github.com/daprshop/platform/sidecar"
)

// deliveryAttempts bounds how often one request is offered to an app ID
// whose replicas keep refusing it undelivered (see redeliver).
const deliveryAttempts = 6

// redeliver sends a request again when the sidecars report that it never
// reached an app: the replica discovery picked is failing its health checks
// (its sidecar short-circuits every call), or could not be connected to (it
// died and discovery still lists it: mDNS keeps an address up to 60 s,
// SQLite until a heartbeat is missed). Every attempt resolves the app ID
// anew, so the next one can land on a healthy replica (mDNS takes turns,
// SQLite picks at random). A call that may have reached an app (its answer,
// a timeout) is never sent twice, so this holds for writes too.
type redeliver struct {
	next     http.RoundTripper
	attempts int
}

func (t redeliver) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		resp, err := t.next.RoundTrip(req)
		if err != nil || attempt == t.attempts {
			return resp, err
		}
		cause, undelivered := neverDelivered(resp, safe(req.Method))
		if !undelivered {
			return resp, nil
		}
		if req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				return resp, nil // a body that cannot be read again
			}
			body, err := req.GetBody()
			if err != nil {
				return resp, nil
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
		resp.Body.Close()
		logging.FromContext(req.Context()).Debug("call not delivered; offering it to the app ID again",
			zap.String("cause", cause), zap.Int("attempt", attempt+1))
	}
}

// neverDelivered reads a sidecar's own error answer (Dapr's
// ERR_DIRECT_INVOKE, not an app's) and tells whether it says the call did
// not reach the app, or, for a safe method, that the replica's connection
// failed (a reset of a replica that died mid-call: reading again is
// harmless). resp stays readable either way.
func neverDelivered(resp *http.Response, safe bool) (cause string, ok bool) {
	e, own := sidecarError(resp)
	if !own || e.ErrorCode != "ERR_DIRECT_INVOKE" {
		return "", false
	}
	causes := []string{
		"app is not in a healthy state", // the target sidecar's health short-circuit
		"connection refused",            // no one listens at the address discovery gave
	}
	if safe {
		causes = append(causes, "code = Unavailable")
	}
	for _, cause := range causes {
		if strings.Contains(e.Message, cause) {
			return cause, true
		}
	}
	return "", false
}

// daprError is a sidecar's own error answer.
type daprError struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

func (e *daprError) Error() string { return e.ErrorCode + ": " + e.Message }

// Unwrap makes it an outage to httpapi.WriteError (503, Retry-After).
func (e *daprError) Unwrap() error { return sidecar.ErrUnavailable }

// sidecarError reads whether resp is the sidecar's own error (a 500 whose
// JSON body has an errorCode ERR_...), not an answer of the app; resp stays
// readable either way.
func sidecarError(resp *http.Response) (*daprError, bool) {
	if resp.StatusCode != http.StatusInternalServerError || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return nil, false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return nil, false
	}
	var e daprError
	if json.Unmarshal(head, &e) != nil || !strings.HasPrefix(e.ErrorCode, "ERR_") {
		return nil, false
	}
	return &e, true
}

func safe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

type readCloser struct {
	io.Reader
	io.Closer
}

// replayable keeps a request's body in memory (the edge has already bounded
// its size) so that redeliver can send it again.
func replayable(r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	return nil
}
