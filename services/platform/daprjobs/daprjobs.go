// Package daprjobs runs an app's recurring work through the Dapr
// scheduler: a job declared by every replica at start, delivered to one of
// them at each tick on the route this package serves.
package daprjobs

import (
	"context"
	"net/http"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/gorilla/mux"

	"github.com/daprshop/platform/backoff"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/problem"
	"github.com/daprshop/platform/sidecar"
)

// Scheduler is the part of the go-sdk client that schedules jobs.
type Scheduler interface {
	ScheduleJob(ctx context.Context, job *dapr.Job) error
}

// Recurring makes the scheduler call POST /job/<name> on this app every
// interval, durably. Every replica (re)declares it at start; the scheduler
// keeps one job and delivers each tick to one replica. It tries until ctx
// ends: at start the sidecar may not reach the scheduler yet.
func Recurring(ctx context.Context, client Scheduler, name string, every time.Duration) error {
	job := dapr.NewJob(name, dapr.WithJobSchedule("@every "+every.String()))
	job.Overwrite = true
	return backoff.Retry(ctx, "schedule job "+name, func() error {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return client.ScheduleJob(callCtx, job)
	})
}

// Counting is the Run of an app with one job, whose work answers how many
// things it did, reported as {"<key>": n}.
func Counting(job, key string, work func(context.Context) (int, error)) Run {
	return func(ctx context.Context, name string) (any, bool, error) {
		if name != job {
			return nil, false, nil
		}
		n, err := work(ctx)
		return map[string]int{key: n}, true, err
	}
}

// Run does the job called name and answers its result, or known=false for
// a job the app no longer has.
type Run func(ctx context.Context, name string) (result any, known bool, err error)

// Route serves POST /job/{name} on r. Only the app's own sidecar delivers
// jobs: a call from another app (which carries the caller's ID) is refused,
// so no app can trigger another's jobs through service invocation. An
// unknown job is answered 2xx so the scheduler drops it; an error is
// written by writeError (non-2xx: the scheduler retries per the job's
// failure policy, and a recurring job's next tick tries again anyway).
func Route(r *mux.Router, run Run, writeError func(http.ResponseWriter, *http.Request, error)) {
	r.HandleFunc("/job/{name}", func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get(sidecar.CallerHeader) != "" {
			httpapi.WriteError(w, req, problem.New(http.StatusForbidden, "jobs are delivered by this app's own sidecar only"))
			return
		}
		name := mux.Vars(req)["name"]
		result, known, err := run(req.Context(), name)
		switch {
		case err != nil:
			writeError(w, req, err)
		case !known:
			httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ignored", "job": name})
		default:
			httpapi.WriteJSON(w, http.StatusOK, result)
		}
	}).Methods(http.MethodPost)
}
