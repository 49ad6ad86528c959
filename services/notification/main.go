// Command notification runs the notifier: emails for the platform's
// events, sent through a Dapr output binding, with dead letters kept for replay.
package main

import (
	"github.com/daprshop/notification/service"
	"github.com/daprshop/platform/bootstrap"
)

func main() {
	bootstrap.Main(service.Name, service.Port, &service.Config{}, service.Run)
}
