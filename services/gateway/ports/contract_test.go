package ports_test

import (
	"net/http"
	"testing"

	"github.com/gorilla/mux"

	"github.com/daprshop/gateway/ports"
	"github.com/daprshop/platform/contracts"
	"github.com/daprshop/platform/daprtest"
)

// The public API is the gateway's route table: every line of it is in
// contracts/openapi/gateway.yaml, going to the same app, and the document
// has nothing the table does not; the catalog events it receives are in
// deliveries.yaml.
func TestRoutesArePublished(t *testing.T) {
	r := mux.NewRouter()
	for _, rt := range ports.Table {
		r.Handle("/api"+rt.Path, http.NotFoundHandler()).Methods(rt.Methods...)
	}
	r.Handle(ports.CatalogEventsPath, http.NotFoundHandler()).Methods(http.MethodPost)
	contracts.Check(t, "gateway", r)

	goesTo, err := contracts.Gateway(daprtest.RepoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range ports.Table {
		for _, m := range rt.Methods {
			op := contracts.Operation{Method: m, Path: "/api" + rt.Path}
			if app, ok := goesTo[op]; ok && app != rt.App {
				t.Errorf("%s goes to %s; the document says %s", op, rt.App, app)
			}
		}
	}
}
