package runner

import (
	"fmt"
	"strings"
)

// Banner is what a user reads once everything is up: where to go and what to try.
func Banner(r *Run) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nReady in %.1fs.", r.Elapsed().Seconds())
	gw := r.AppURL("gateway")
	if gw == "" {
		for _, a := range r.apps {
			fmt.Fprintf(&b, "\n  %-12s http://localhost:%d (sidecar http://localhost:%d)", a.name(), a.AppPort, a.DaprHTTPPort)
		}
		if r.cp != nil {
			fmt.Fprintf(&b, "\n  placement %s, scheduler %s", r.PlacementAddress(), r.SchedulerAddress())
		}
		b.WriteString("\nCtrl-C stops everything.\n")
		return b.String()
	}
	fmt.Fprintf(&b, " Gateway: %s\n\nThe storefront: %s/ (in a browser)\n\nTry:\n", gw, gw)
	fmt.Fprintf(&b, "  curl -s -X POST %s/api/users/register -H 'Content-Type: application/json' \\\n", gw)
	b.WriteString(`       -d '{"email":"ann@example.com","name":"Ann","password":"correct-horse-42"}'` + "\n")
	b.WriteString("\nThe README's \"First requests\" goes on from there (login, /api/users/me).\n")
	fmt.Fprintf(&b, "Logs: %s   Ctrl-C stops everything.\n", r.console.logDir)
	return b.String()
}
