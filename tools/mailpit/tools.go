//go:build tools

// Package tools pins Mailpit (MIT), built by tools/build.sh mailpit.
package tools

import _ "github.com/axllent/mailpit"
