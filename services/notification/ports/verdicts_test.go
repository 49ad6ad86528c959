package ports

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/daprshop/notification/app"
)

// The outcomes reach Dapr as the statuses its pub/sub takes; an outcome
// the port does not know is retried, never dropped.
func TestOutcomesBecomeDaprsVerdicts(t *testing.T) {
	for o, want := range map[app.Outcome]string{app.Handled: "SUCCESS", app.TryAgain: "RETRY", app.Undeliverable: "DROP", app.Outcome(0): "RETRY"} {
		w := httptest.NewRecorder()
		answer(w, o)
		var body struct{ Status string }
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 200 || body.Status != want {
			t.Errorf("%s: %d %q, want 200 %q", o, w.Code, w.Body.String(), want)
		}
	}
}
