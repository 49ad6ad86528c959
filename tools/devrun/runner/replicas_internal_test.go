package runner

import (
	"strconv"
	"testing"
)

func TestReplicasShiftFixedPortsAndKeepTheAppID(t *testing.T) {
	a := &app{AppConfig: AppConfig{AppID: "product", AppPort: 8002, DaprHTTPPort: 3502, DaprGRPCPort: 3602,
		DaprInternalGRPCPort: 3702, MetricsPort: 9103}, replica: 1}
	a.Env = map[string]string{EnvReplicas: "3", "ADMIN_PORT": "8102"}
	more, err := replicas(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(more) != 2 {
		t.Fatalf("%d further replicas, want 2", len(more))
	}
	for i, r := range more {
		shift := (i + 1) * replicaPortStep
		if r.AppID != "product" || r.name() != "product-"+string(rune('2'+i)) || r.AppPort != 8002+shift ||
			r.DaprHTTPPort != 3502+shift || r.MetricsPort != 9103+shift || r.Env["ADMIN_PORT"] != itoa(8102+shift) {
			t.Errorf("replica %d: %s %+v", i+2, r.name(), r.AppConfig)
		}
	}
	if a.Env["ADMIN_PORT"] != "8102" {
		t.Error("a replica changed the first's env")
	}
	for _, bad := range []string{"0", "ten", "10"} {
		b := &app{AppConfig: AppConfig{AppID: "x"}}
		b.Env = map[string]string{EnvReplicas: bad}
		if _, err := replicas(b); err == nil {
			t.Errorf("%s=%q accepted", EnvReplicas, bad)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
