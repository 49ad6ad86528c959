// Command order runs the order service: orders, and the checkout saga as a
// Dapr Workflow.
package main

import (
	"github.com/daprshop/order/service"
	"github.com/daprshop/platform/bootstrap"
)

func main() {
	bootstrap.Main(service.Name, service.Port, &service.Config{}, service.Run)
}
