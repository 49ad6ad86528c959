package adapters_test

import (
	"context"
	"slices"
	"testing"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"

	"github.com/daprshop/order/adapters"
	"github.com/daprshop/platform/daprtest"
	"github.com/daprshop/platform/statestore"
)

// A buyer's list keeps the newest orders only, through a real daprd on the
// repository's own order-store component; adding one twice lists it once.
func TestABuyersListKeepsTheNewest(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts daprd")
	}
	component := daprtest.RepoComponent(t, "components/order-store.yaml", "orders-"+uuid.NewString()[:8])
	sc := daprtest.Start(t, daprtest.Options{AppID: "order", Resources: []string{component}})
	client, err := dapr.NewClientWithAddress(sc.GRPCAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()
	store := adapters.NewDaprStore(statestore.New(client, "order-store"), 2)
	for _, id := range []string{"o1", "o2", "o2", "o3"} {
		if err := store.AddToUser(ctx, "u1", id); err != nil {
			t.Fatal(err)
		}
	}
	if ids, err := store.UserOrders(ctx, "u1"); err != nil || !slices.Equal(ids, []string{"o3", "o2"}) {
		t.Fatalf("listed %v (%v), want the newest two", ids, err)
	}
}
