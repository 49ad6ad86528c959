// Command kfake runs franz-go's in-process fake Kafka cluster (pkg/kfake,
// BSD-3-Clause) as a local Kafka-protocol broker: the stand-in for a Kafka
// server in the pubsub.kafka profile (no Kafka runs on these machines).
//
//	kfake -port 19092 [-brokers 1] [-partitions 1] [-log-level warn] [-data-dir DIR] [-as-version 3.9]
//
// Brokers listen on 127.0.0.1:port, port+1, ...; topics are created on first
// use. One line "kfake ready: 127.0.0.1:19092" on stdout means it accepts
// connections; SIGTERM or SIGINT stops it.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kversion"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kfake:", err)
		os.Exit(1)
	}
}

func run() error {
	port := flag.Int("port", 19092, "port of the first broker (127.0.0.1 only); the others take the next ones")
	brokers := flag.Int("brokers", 1, "number of brokers")
	partitions := flag.Int("partitions", 1, "partitions of an auto-created topic (Kafka's num.partitions)")
	logLevel := flag.String("log-level", "warn", "none, error, warn, info or debug (to stderr)")
	dataDir := flag.String("data-dir", "", "keep the cluster's state in this folder across restarts (default: memory only)")
	asVersion := flag.String("as-version", "", "advertise only the API versions of this Kafka release, e.g. 3.9 (default: all kfake implements)")
	flag.Parse()

	levels := map[string]kfake.LogLevel{
		"none": kfake.LogLevelNone, "error": kfake.LogLevelError, "warn": kfake.LogLevelWarn,
		"info": kfake.LogLevelInfo, "debug": kfake.LogLevelDebug,
	}
	level, ok := levels[strings.ToLower(*logLevel)]
	if !ok {
		return fmt.Errorf("unknown -log-level %q", *logLevel)
	}
	if *brokers < 1 || *port < 1 || *port+*brokers-1 > 65535 {
		return fmt.Errorf("bad -port %d / -brokers %d", *port, *brokers)
	}
	ports := make([]int, *brokers)
	for i := range ports {
		ports[i] = *port + i
	}
	opts := []kfake.Opt{
		kfake.Ports(ports...),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(*partitions),
		kfake.WithLogger(kfake.BasicLogger(os.Stderr, level)),
	}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
	}
	if *asVersion != "" {
		v := kversion.FromString(*asVersion)
		if v == nil {
			return fmt.Errorf("unknown -as-version %q (known: %s)", *asVersion, strings.Join(kversion.VersionStrings(), " "))
		}
		opts = append(opts, kfake.MaxVersions(v))
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)

	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return err
	}
	fmt.Printf("kfake ready: %s\n", strings.Join(c.ListenAddrs(), ","))

	s := <-sigs
	fmt.Fprintf(os.Stderr, "kfake: %s, stopping\n", s)
	c.Close()
	return nil
}
