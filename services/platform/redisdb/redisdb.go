// Package redisdb hands out Redis databases 1-14 to test runs, one holder
// at a time across every process on the machine, and empties each before
// use. Database 0 is `make run`'s and 15 the benchmark's.
//
// A run that shared a database with another, or found an earlier run's data
// (a bootstrap admin with another password, login throttles, undelivered
// stream entries), would fail for reasons that are not its own.
package redisdb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/daprshop/platform/hostlock"
)

const first, last = 1, 14

// Reserve takes a database no other holder has, waiting up to ctx's end for
// one, and empties it on every Redis in addrs. release gives it back.
func Reserve(ctx context.Context, addrs ...string) (db int, release func(), err error) {
	for {
		for _, n := range rand.Perm(last - first + 1) {
			db := first + n
			release, ok, err := hostlock.Try("redisdb-" + strconv.Itoa(db))
			if err != nil {
				return 0, nil, err
			}
			if !ok {
				continue // held by another run
			}
			for _, a := range addrs {
				if err := Flush(a, db); err != nil {
					release()
					return 0, nil, fmt.Errorf("empty Redis database %d at %s: %w", db, a, err)
				}
			}
			return db, release, nil
		}
		select {
		case <-ctx.Done():
			return 0, nil, errors.New("every Redis database 1-14 is held by another run")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Flush empties database db of the Redis at addr.
func Flush(addr string, db int) error {
	_, err := Command(addr, db, "FLUSHDB")
	return err
}

// Set stores value under key in database db (what `make config` does to
// the local configuration store).
func Set(addr string, db int, key, value string) error {
	_, err := Command(addr, db, "SET", key, value)
	return err
}

// Del removes key from database db.
func Del(addr string, db int, key string) error {
	_, err := Command(addr, db, "DEL", key)
	return err
}

// EnableKeyspaceEvents turns on the notifications Dapr's Redis
// configuration store subscribes to (keyspace events for string and generic
// commands), keeping any flags already set.
func EnableKeyspaceEvents(addr string) error {
	got, err := Command(addr, 0, "CONFIG", "GET", "notify-keyspace-events")
	if err != nil {
		return err
	}
	flags := got
	if strings.ContainsRune(flags, 'K') && (strings.ContainsRune(flags, 'A') || strings.ContainsRune(flags, '$') && strings.ContainsRune(flags, 'g')) {
		return nil
	}
	for _, f := range "K$g" {
		if !strings.ContainsRune(flags, f) {
			flags += string(f)
		}
	}
	_, err = Command(addr, 0, "CONFIG", "SET", "notify-keyspace-events", flags)
	return err
}

// Command runs one command in database db over plain RESP and returns its
// reply: a simple or bulk string, or the last element of an array.
func Command(addr string, db int, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	for _, cmd := range [][]string{{"SELECT", strconv.Itoa(db)}, args} {
		fmt.Fprintf(&b, "*%d\r\n", len(cmd))
		for _, a := range cmd {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	rd := bufio.NewReader(conn)
	if _, err := reply(rd); err != nil {
		return "", err
	}
	return reply(rd)
}

func reply(rd *bufio.Reader) (string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", err
		}
		last := ""
		for range n {
			if last, err = reply(rd); err != nil {
				return "", err
			}
		}
		return last, nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}
