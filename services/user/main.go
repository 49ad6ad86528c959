// Command user runs the user service: accounts, credentials and login.
package main

import (
	"github.com/daprshop/platform/bootstrap"
	"github.com/daprshop/user/service"
)

func main() {
	bootstrap.Main(service.Name, service.Port, &service.Config{}, service.Run)
}
