package ports_test

import (
	"testing"

	"github.com/gorilla/mux"

	"github.com/daprshop/platform/contracts"
	"github.com/daprshop/product/ports"
)

// Every route of the service is in a published document (contracts/openapi)
// and every operation documented for it is served.
func TestRoutesArePublished(t *testing.T) {
	r := mux.NewRouter()
	ports.NewHTTP(nil, nil, nil, nil, nil).Register(r)
	contracts.Check(t, "product", r)
}
