// Command product runs the product service: catalog, search and inventory
// reservations. `product seed` loads the demo catalog through the sidecar.
package main

import (
	"os"

	"github.com/daprshop/platform/bootstrap"
	"github.com/daprshop/product/service"
)

func main() {
	run := service.Run
	if len(os.Args) > 1 && os.Args[1] == "seed" {
		run = service.Seed
	}
	bootstrap.Main(service.Name, service.Port, &service.Config{}, run)
}
