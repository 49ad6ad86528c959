package adapters_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/daprshop/platform/daprtest"
	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/user/adapters"
	"github.com/daprshop/user/adapters/repotest"
	"github.com/daprshop/user/app"
)

// The same contract, through a real daprd, against the repository's own
// component files: the default (Redis) and the PostgreSQL profile. Only the
// YAML differs; the store code is the same.
func TestDaprUserStoreContract(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts daprd")
	}
	root := daprtest.RepoRoot(t)
	profiles := map[string]string{
		"redis":      "components/user-store.yaml",
		"postgresql": "components/profiles/postgresql/user-store.yaml",
	}
	for name, file := range profiles {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, file))
			if err != nil {
				t.Fatal(err)
			}
			component := string(b)
			// Point the files at this machine's servers when they are not the defaults.
			if name == "redis" {
				component = strings.ReplaceAll(component, "localhost:6379", daprtest.Redis(t))
			}
			if dsn := os.Getenv("POSTGRES_DSN"); dsn != "" {
				component = strings.ReplaceAll(component, "host=localhost port=5432 user=postgres dbname=test sslmode=disable", dsn)
			}
			// The components are scoped to the app ID "user".
			sc := daprtest.Start(t, daprtest.Options{AppID: "user", Resources: []string{component}})
			client, err := dapr.NewClientWithAddress(sc.GRPCAddr())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { client.Close() })
			store := adapters.NewDaprUserStore(statestore.New(client, "user-store"))
			repotest.Run(t, func(*testing.T) app.Repository { return store })
		})
	}
}
