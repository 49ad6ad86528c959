// Command payment runs the payment service: one charge per order against a
// simulated provider, and idempotent refunds.
package main

import (
	"github.com/daprshop/payment/service"
	"github.com/daprshop/platform/bootstrap"
)

func main() {
	bootstrap.Main(service.Name, service.Port, &service.Config{}, service.Run)
}
