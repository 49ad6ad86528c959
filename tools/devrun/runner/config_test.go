package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daprshop/devrun/runner"
	"github.com/daprshop/platform/daprtest"
	"github.com/daprshop/platform/redisdb"
)

func TestSetConfigWritesTheProfilesStore(t *testing.T) {
	addr := daprtest.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, release, err := redisdb.Reserve(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	root := t.TempDir()
	write := func(path, body string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "components", "configstore.yaml"), daprtest.RedisConfigStore(addr, db))
	write(filepath.Join(root, "components", "profiles", "pg", "configstore.yaml"), `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: configstore}
spec:
  type: configuration.azure.appconfig
  version: v1
  metadata: []
`)
	if err := runner.SetConfig(root, nil, "gateway.rate_limits", "users=3/1m"); err != nil {
		t.Fatal(err)
	}
	if got, _ := redisdb.Command(addr, db, "GET", "gateway.rate_limits"); got != "users=3/1m" {
		t.Errorf("stored %q", got)
	}
	if err := runner.SetConfig(root, nil, "gateway.rate_limits", ""); err != nil {
		t.Fatal(err)
	}
	if n, _ := redisdb.Command(addr, db, "EXISTS", "gateway.rate_limits"); n != "0" {
		t.Errorf("an empty value did not remove the key")
	}
	err = runner.SetConfig(root, []string{"pg"}, "k", "v")
	if err == nil || !strings.Contains(err.Error(), "configuration.azure.appconfig") {
		t.Errorf("a profile's other store type: %v", err)
	}
}
