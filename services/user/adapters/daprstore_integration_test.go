package adapters_test

import (
	"fmt"
	"os"
	"testing"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"

	"github.com/daprshop/platform/daprtest"
	"github.com/daprshop/user/adapters"
	"github.com/daprshop/user/adapters/repotest"
	"github.com/daprshop/user/app"
)

// The same contract, through a real daprd, against each state store the
// service is documented to run on. Only the component YAML differs.
func TestDaprUserStoreContract(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts daprd")
	}
	stores := map[string]func(t *testing.T) string{
		"redis": func(t *testing.T) string {
			return fmt.Sprintf(`
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: user-store}
spec:
  type: state.redis
  version: v1
  metadata:
    - {name: redisHost, value: "%s"}
`, daprtest.Redis(t))
		},
		"postgresql": func(t *testing.T) string {
			conn := os.Getenv("POSTGRES_DSN")
			if conn == "" {
				conn = "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"
			}
			return fmt.Sprintf(`
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: user-store}
spec:
  type: state.postgresql
  version: v2
  metadata:
    - {name: connectionString, value: "%s"}
    - {name: tablePrefix, value: "it_user_"}
`, conn)
		},
	}
	for name, component := range stores {
		t.Run(name, func(t *testing.T) {
			sc := daprtest.Start(t, daprtest.Options{
				AppID:     "user-it-" + uuid.NewString()[:8],
				Resources: []string{component(t)},
			})
			client, err := dapr.NewClientWithAddress(sc.GRPCAddr())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { client.Close() })
			store := adapters.NewDaprUserStore(client, "user-store")
			repotest.Run(t, func(*testing.T) app.Repository { return store })
		})
	}
}
