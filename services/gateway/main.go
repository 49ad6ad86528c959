// Command gateway runs the API gateway, the single public entry point.
package main

import (
	"github.com/daprshop/gateway/service"
	"github.com/daprshop/platform/bootstrap"
)

func main() {
	bootstrap.Main(service.Name, service.Port, &service.Config{}, service.Run)
}
