package ports

import (
	"encoding/json"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/httpapi"
)

// CatalogEventsPath is where the gateway's sidecar delivers the product and
// inventory events (components/subscriptions.yaml, the "broadcast"
// component: every replica gets every one).
const CatalogEventsPath = "/events/catalog"

// backlogSkew is how much older than the process an event may be and still
// be taken: a change committed before the process started is in every
// answer it has fetched, so such events change nothing. The margin covers
// the event's whole-second time and clocks that differ between hosts.
const backlogSkew = time.Minute

// CatalogEvents takes a delivered CloudEvent and drops the cached reads its
// change may have made stale (readCache.forget): the products it names and
// every list, or everything if it names none or cannot be read. It always
// answers SUCCESS: there is nothing a redelivery would do better.
func (e *Edge) CatalogEvents() http.Handler {
	c := e.cache
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Time time.Time `json:"time"`
			Data struct {
				ProductID string                `json:"productId"`
				Lines     []events.ReservedLine `json:"lines"`
			} `json:"data"`
		}
		err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&ev)
		c.events.Add(1)
		switch {
		case err != nil:
			e.log.Warn("catalog event unreadable: edge cache emptied", zap.Error(err))
			c.forget(nil)
		case !ev.Time.IsZero() && ev.Time.Before(c.started.Add(-backlogSkew)):
			c.skipped.Add(1)
		default:
			var products []string
			if ev.Data.ProductID != "" {
				products = append(products, ev.Data.ProductID)
			}
			for _, l := range ev.Data.Lines {
				products = append(products, l.ProductID)
			}
			c.forget(products)
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "SUCCESS"})
	})
}
