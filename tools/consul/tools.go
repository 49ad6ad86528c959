//go:build tools

// Package tools pins Consul v1.16.0 (MPL-2.0), built by tools/build.sh consul.
package tools

import _ "github.com/hashicorp/consul"
