package adapters_test

import (
	"testing"

	"github.com/daprshop/user/adapters"
	"github.com/daprshop/user/adapters/repotest"
	"github.com/daprshop/user/app"
)

func TestMemoryUserStoreContract(t *testing.T) {
	repotest.Run(t, func(*testing.T) app.Repository { return adapters.NewMemoryUserStore() })
}
