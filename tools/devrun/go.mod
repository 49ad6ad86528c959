module github.com/daprshop/devrun

go 1.26.4

require github.com/daprshop/platform v0.0.0

require (
	go.starlark.net v0.0.0-20260908191801-89a6a09411d5
	golang.org/x/sys v0.49.0 // indirect
)

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	gopkg.in/yaml.v3 v3.0.1
)

replace github.com/daprshop/platform => ../../services/platform
