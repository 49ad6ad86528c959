package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi/datamodel"
	"github.com/redis/go-redis/v9"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/daprshop/devrun/runner"
	"github.com/daprshop/platform/contracts"
	"github.com/daprshop/platform/daprtest"
)

// publicAPI holds every answer the end-to-end tests get from the gateway to
// contracts/openapi/gateway.yaml: status, content type, headers and body
// schema. Requests are not checked (tests send bad input on purpose), nor
// answers to operations the document does not have (tests probe unknown
// routes; that every route is documented is each service's own test).
type publicAPI struct {
	mu sync.Mutex // the validator's caches are not safe for concurrent use
	v  validator.Validator
}

var (
	contractOnce sync.Once
	contract     *publicAPI
	contractErr  error
)

// gatewayContract loads the document once for the whole test binary.
func gatewayContract(t testing.TB) (*publicAPI, error) {
	contractOnce.Do(func() {
		contract, contractErr = loadContract(filepath.Join(daprtest.RepoRoot(t), "contracts", "openapi"))
	})
	return contract, contractErr
}

func loadContract(dir string) (*publicAPI, error) {
	spec, err := os.ReadFile(filepath.Join(dir, "gateway.yaml"))
	if err != nil {
		return nil, err
	}
	doc, err := libopenapi.NewDocumentWithConfiguration(spec, &datamodel.DocumentConfiguration{BasePath: dir, AllowFileReferences: true})
	if err != nil {
		return nil, err
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, fmt.Errorf("gateway.yaml: %v", errs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("gateway.yaml is not a valid OpenAPI 3.1 document: %v", errs)
	}
	return &publicAPI{v: v}, nil
}

// breaks answers how an answer departs from the document ("" if it does
// not, or the document has no such operation).
func (p *publicAPI) breaks(req *http.Request, status int, header http.Header, body []byte) string {
	if !strings.HasPrefix(req.URL.Path, "/api/") {
		return ""
	}
	resp := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Request: req}
	p.mu.Lock()
	defer p.mu.Unlock()
	ok, errs := p.v.ValidateHttpResponse(req, resp)
	if ok {
		return ""
	}
	var out []string
	for _, e := range errs {
		if e.IsPathMissingError() || e.IsOperationMissingError() {
			return "" // not a documented operation
		}
		msg := e.Message
		if e.Reason != "" {
			msg += ": " + e.Reason
		}
		for _, s := range e.SchemaValidationErrors {
			msg += fmt.Sprintf(" [%s: %s]", s.FieldPath, s.Reason)
		}
		out = append(out, msg)
	}
	return strings.Join(out, "; ")
}

// checkAnswer fails t when a gateway answer breaks the public contract.
func checkAnswer(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	api, err := gatewayContract(t)
	if err != nil {
		t.Fatal(err)
	}
	if why := api.breaks(req, status, header, body); why != "" {
		t.Errorf("%s %s answered %d, which breaks contracts/openapi/gateway.yaml: %s\n%s", req.Method, req.URL.Path, status, why, body)
	}
}

// TestTheContractCatchesADrift: the check above fails an answer with a
// field the document does not have, or without one it requires, and
// passes a conforming one.
func TestTheContractCatchesADrift(t *testing.T) {
	api, err := gatewayContract(t)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://gateway/api/users/me", nil)
	h := http.Header{"Content-Type": {"application/json"}}
	user := `"id":"u1","email":"a@example.com","name":"Ann","role":"customer","createdAt":"2026-11-27T10:00:00Z","updatedAt":"2026-11-27T10:00:00Z"`
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{`{` + user + `}`, true},
		{`{` + user + `,"password":"x"}`, false},
		{`{"id":"u1"}`, false},
	} {
		if why := api.breaks(req, 200, h, []byte(c.body)); (why == "") != c.ok {
			t.Errorf("%s: conforms=%v, want %v (%s)", c.body, why == "", c.ok, why)
		}
	}
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	if why := api.breaks(req, 401, problem, []byte(`{"type":"about:blank","title":"Unauthorized","status":401}`)); why != "" {
		t.Errorf("a problem answer: %s", why)
	}
	if why := api.breaks(req, 401, h, []byte(`oops`)); why == "" {
		t.Error("an error answered as text passed")
	}
}

// checkPublishedEvents holds every event on the broker of a run with the
// default (Redis streams) pub/sub to its topic's schema (contracts/events):
// the CloudEvent's data, as published. Other profiles' brokers are not read.
func checkPublishedEvents(t *testing.T, run *runner.Run) {
	t.Helper()
	addr, db, ok := redisPubSub(t, run)
	if !ok {
		t.Log("the run's pub/sub is not Redis streams: its events are not checked against contracts/events")
		return
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	defer rdb.Close()
	schemas := contracts.EventSchemas(t)
	checked := 0
	for topic, schema := range schemas {
		entries, err := rdb.XRange(context.Background(), topic, "-", "+").Result()
		if err != nil {
			t.Fatalf("read %s: %v", topic, err)
		}
		for _, e := range entries {
			raw, _ := e.Values["data"].(string)
			var ce struct {
				ID   string          `json:"id"`
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal([]byte(raw), &ce); err != nil || ce.ID == "" || strings.HasPrefix(ce.ID, injectedEventPrefix) {
				continue // poison a test put there on purpose
			}
			data, err := jsonschema.UnmarshalJSON(bytes.NewReader(ce.Data))
			if err != nil {
				t.Errorf("%s %s: data is not JSON: %s", topic, ce.ID, ce.Data)
				continue
			}
			if err := schema.Validate(data); err != nil {
				t.Errorf("%s %s breaks contracts/events/%s.schema.json: %v\n%s", topic, ce.ID, topic, err, ce.Data)
			}
			checked++
		}
	}
	t.Logf("%d published events checked against contracts/events", checked)
	if checked == 0 {
		t.Error("no event on the broker to check")
	}
}

// redisPubSub answers the run's pub/sub Redis address and database, if
// its pub/sub is Redis streams.
func redisPubSub(t *testing.T, run *runner.Run) (addr string, db int, ok bool) {
	typ, meta, err := run.Component("pubsub")
	if err != nil {
		t.Fatal(err)
	}
	db, _ = strconv.Atoi(meta["redisDB"])
	return meta["redisHost"], db, typ == "pubsub.redis" && meta["redisHost"] != ""
}
