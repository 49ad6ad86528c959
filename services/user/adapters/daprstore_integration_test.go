package adapters_test

import (
	"testing"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"

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
	profiles := map[string]string{
		"redis":      "components/user-store.yaml",
		"postgresql": "components/profiles/postgres-rabbitmq/user-store.yaml",
	}
	for name, file := range profiles {
		t.Run(name, func(t *testing.T) {
			// Keys of their own: the PostgreSQL table is the profile's.
			component := daprtest.RepoComponent(t, file, "user-contract-"+uuid.NewString()[:8])
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
