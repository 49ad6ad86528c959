// kfake: franz-go's fake Kafka cluster (github.com/twmb/franz-go/pkg/kfake,
// BSD-3-Clause) as a local broker; main.go wraps it. kfake has no tags, only
// pseudo-versions; the current one needs franz-go v1.22.3 (older ones do not
// compile with it). A module of its own, outside go.work; see build.conf.
module github.com/daprshop/tools/kfake

go 1.26.4

require (
	github.com/twmb/franz-go v1.22.3
	github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c
)

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/twmb/franz-go/pkg/kmsg v1.15.1 // indirect
)
