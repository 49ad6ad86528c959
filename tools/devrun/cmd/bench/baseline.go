package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/daprshop/devrun/runner"
)

// baseline starts wfbaseline (Dapr's workflow perf-test shape: 5 chained
// no-op activities) in place of the order service, with the order
// service's sidecar flags, configuration, components and a control plane of
// its own, and returns a workload that starts one such workflow through the
// sidecar's workflow API and follows it to its end.
func baseline(ctx context.Context, runFile, stateDir string, out io.Writer, client *http.Client) (*runner.Run, workload, error) {
	bin := filepath.Join(stateDir, "wfbaseline")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./tools/devrun/cmd/bench/wfbaseline")
	build.Dir = filepath.Dir(runFile)
	if b, err := build.CombinedOutput(); err != nil {
		return nil, nil, fmt.Errorf("build wfbaseline: %v\n%s", err, b)
	}
	topo, err := runner.Start(ctx, runner.Options{
		RunFile: runFile, FreePorts: true, RedisDB: benchDB, StateDir: filepath.Join(stateDir, "baseline"), Out: out,
		Apps: []string{"order"}, Binaries: map[string]string{"order": bin},
	})
	if err != nil {
		return nil, nil, err
	}
	api := topo.SidecarURL("order") + "/v1.0/workflows/dapr/"
	auth := http.Header{"Dapr-Api-Token": {topo.APIToken("order")}}
	call := func(method, url string, body, into any) (int, error) {
		return callJSON(client, method, url, auth, body, into)
	}
	run := time.Now().UnixNano()
	w := func(i int, _ *rand.Rand, _ time.Time) (bool, string, time.Time) {
		id := fmt.Sprintf("baseline-%d-%d", run, i)
		if code, err := call(http.MethodPost, api+"PerfBaseline/start?instanceID="+id, 0, nil); err != nil || code != http.StatusAccepted {
			return false, "", time.Time{}
		}
		var st struct {
			Status  string    `json:"runtimeStatus"`
			Updated time.Time `json:"lastUpdatedAt"`
		}
		ended := func() bool { return st.Status == "COMPLETED" || st.Status == "FAILED" || st.Status == "TERMINATED" }
		follow(func() bool {
			if !ended() {
				_, _ = call(http.MethodGet, api+id, nil, &st)
			}
			return ended()
		})
		if !ended() {
			return true, "", time.Time{}
		}
		return true, st.Status, st.Updated
	}
	return topo, w, nil
}
