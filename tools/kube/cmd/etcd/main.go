// Command etcd is the etcd server at the version Kubernetes pins, built from
// Go so that tests need no etcd package from the system.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
