package bootstrap_test

import (
	"testing"

	"github.com/daprshop/platform/bootstrap"
)

type config struct {
	bootstrap.Base
	Extra string `env:"EXTRA" default:"x"`
}

func TestLoadFillsNameAndPortDefaults(t *testing.T) {
	var c config
	if err := bootstrap.Load(&c, "svc", 8123); err != nil {
		t.Fatal(err)
	}
	if c.AppID != "svc" || c.Port != 8123 || c.Addr() != "127.0.0.1:8123" || c.Extra != "x" || c.Sidecar.HTTPPort != 3500 {
		t.Fatalf("config %+v", c)
	}

	t.Setenv("APP_ID", "svc-2")
	t.Setenv("APP_PORT", "9000")
	t.Setenv("LOG_LEVEL", "loud")
	var bad config
	if err := bootstrap.Load(&bad, "svc", 8123); err == nil {
		t.Fatal("an invalid LOG_LEVEL was accepted")
	}
	t.Setenv("LOG_LEVEL", "debug")
	t.Setenv("APP_LISTEN_ADDRESS", "0.0.0.0")
	var c2 config
	if err := bootstrap.Load(&c2, "svc", 8123); err != nil || c2.AppID != "svc-2" || c2.Port != 9000 || c2.Addr() != "0.0.0.0:9000" {
		t.Fatalf("env not applied: %+v, %v", c2, err)
	}
	t.Setenv("APP_LISTEN_ADDRESS", "everywhere")
	if err := bootstrap.Load(&bad, "svc", 8123); err == nil {
		t.Fatal("a listen address that is no IP was accepted")
	}
}
