package daprtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daprshop/platform/redisdb"
	"github.com/daprshop/platform/requestid"
)

// localPostgres is the DSN the repository's PostgreSQL profiles use.
const localPostgres = "host=localhost port=5432 user=postgres dbname=test sslmode=disable"

// RepoComponent reads a component file of the repository (path relative to
// its root) for a test: localhost:6379 becomes the test's Redis, on the
// database the test process holds alone (see RedisPubSub), the local
// PostgreSQL DSN becomes $POSTGRES_DSN when set, and a non-empty keyPrefix
// gives the store's keys a prefix of their own, so the test neither sees nor
// disturbs other data.
func RepoComponent(t testing.TB, file, keyPrefix string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(RepoRoot(t), file))
	if err != nil {
		t.Fatal(err)
	}
	c := string(b)
	if strings.Contains(c, "localhost:6379") {
		// On the Redis database this test process holds alone, never on
		// `make run`'s (database 0).
		addr := Redis(t)
		db, err := processDB(addr)
		if err != nil {
			t.Fatal(err)
		}
		c = strings.ReplaceAll(c, "localhost:6379", addr)
		c = strings.Replace(c, "  metadata:\n", fmt.Sprintf("  metadata:\n    - name: redisDB\n      value: \"%d\"\n", db), 1)
	}
	if dsn := os.Getenv("POSTGRES_DSN"); dsn != "" {
		c = strings.ReplaceAll(c, localPostgres, dsn)
	}
	if keyPrefix != "" {
		c = strings.Replace(c, "  metadata:\n", "  metadata:\n    - name: keyPrefix\n      value: "+keyPrefix+"\n", 1)
	}
	return c
}

// RedisPubSub is a Redis Streams pub/sub component named "pubsub", on a
// Redis database this test process holds alone (1-14, emptied first; see
// package redisdb), so test events reach neither `make run`'s subscribers
// (database 0) nor another run's.
func RedisPubSub(t testing.TB, addr string) string {
	t.Helper()
	db, err := processDB(addr)
	if err != nil {
		t.Fatal(err)
	}
	return redisComponent("pubsub", "pubsub.redis", addr, db)
}

// RedisState is a state.redis component named name on the Redis database
// this test process holds alone (see RedisPubSub).
func RedisState(t testing.TB, name, addr string) string {
	t.Helper()
	db, err := processDB(addr)
	if err != nil {
		t.Fatal(err)
	}
	return redisComponent(name, "state.redis", addr, db)
}

// RedisConfigStore is a configuration.redis component named "configstore"
// on database db of the Redis at addr.
func RedisConfigStore(addr string, db int) string {
	return redisComponent("configstore", "configuration.redis", addr, db)
}

// redisComponent is a component named name of a Redis type on database db.
func redisComponent(name, typ, addr string, db int) string {
	return fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: %s}
spec:
  type: %s
  version: v1
  metadata:
    - {name: redisHost, value: "%s"}
    - {name: redisDB, value: "%d"}
`, name, typ, addr, db)
}

// processDB is this test process's Redis database for streams, held until
// the process exits.
func processDB(addr string) (int, error) {
	streamsDB.Lock()
	defer streamsDB.Unlock()
	if streamsDB.db == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		db, release, err := redisdb.Reserve(ctx, addr)
		if err != nil {
			return 0, err
		}
		// Kept, never called: the lock must outlive every test of the process.
		streamsDB.db, streamsDB.release = db, release
	}
	return streamsDB.db, nil
}

var streamsDB struct {
	sync.Mutex
	db      int
	release func()
}

// StartApp runs a service in-process beside a real daprd, the way a test
// of a whole service needs it. It picks the app's and the sidecar's ports and
// a sidecar-to-app token, exports them as APP_PORT, DAPR_HTTP_PORT,
// DAPR_GRPC_PORT and APP_API_TOKEN, calls run (which reads its configuration
// from the environment and serves until its context ends), starts the
// sidecar with opts, and waits until the app's /readyz passes. When the test
// ends both stop, and an error from run fails the test.
func StartApp(t *testing.T, opts Options, run func(ctx context.Context) error) *Sidecar {
	t.Helper()
	appPort := FreePort(t)
	opts.HTTPPort, opts.GRPCPort, opts.AppPort = FreePort(t), FreePort(t), appPort
	token := requestid.New()
	for k, v := range map[string]string{
		"APP_PORT": strconv.Itoa(appPort), "DAPR_HTTP_PORT": strconv.Itoa(opts.HTTPPort),
		"DAPR_GRPC_PORT": strconv.Itoa(opts.GRPCPort), "APP_API_TOKEN": token,
	} {
		t.Setenv(k, v)
	}
	opts.Env = append(opts.Env, "APP_API_TOKEN="+token)
	opts.WaitForApp = true

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("%s stopped with %v", opts.AppID, err)
		}
	})
	sc := Start(t, opts)
	if err := WaitHTTP(fmt.Sprintf("http://127.0.0.1:%d/readyz", appPort), 60*time.Second); err != nil {
		t.Fatalf("%s not ready: %v", opts.AppID, err)
	}
	return sc
}
