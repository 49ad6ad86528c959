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
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const first, last = 1, 14

// Reserve takes a database no other holder has, waiting up to ctx's end for
// one, and empties it on every Redis in addrs. release gives it back.
func Reserve(ctx context.Context, addrs ...string) (db int, release func(), err error) {
	dir := filepath.Join(os.TempDir(), "daprshop-redisdb")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return 0, nil, err
	}
	for {
		for _, n := range rand.Perm(last - first + 1) {
			db := first + n
			f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(db)), os.O_CREATE|os.O_RDWR, 0o666)
			if err != nil {
				return 0, nil, err
			}
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
				f.Close() // held by another run
				continue
			}
			release := func() { f.Close() } // closing drops the lock
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

// Flush empties database db of the Redis at addr, with plain RESP.
func Flush(addr string, db int) error {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(conn, "SELECT %d\r\nFLUSHDB\r\n", db); err != nil {
		return err
	}
	rd := bufio.NewReader(conn)
	for range 2 {
		line, err := rd.ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "+OK") {
			return fmt.Errorf("unexpected answer %q", strings.TrimSpace(line))
		}
	}
	return nil
}
