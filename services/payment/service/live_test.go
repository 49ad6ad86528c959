package service

import (
	"testing"
	"time"
)

func TestLiveProviderValidatesEachKey(t *testing.T) {
	d, r, err := liveProvider(map[string]string{KeyProviderLatency: "200ms", KeyDeclineRate: "0.25"}, 50*time.Millisecond)
	if err != nil || d != 200*time.Millisecond || r != 0.25 {
		t.Fatalf("%v %v %v", d, r, err)
	}
	if d, r, err := liveProvider(nil, 50*time.Millisecond); err != nil || d != 50*time.Millisecond || r != 0 {
		t.Fatalf("no live values: %v %v %v", d, r, err)
	}
	for _, bad := range []map[string]string{
		{KeyProviderLatency: "soon"}, {KeyProviderLatency: "-1s"}, {KeyProviderLatency: "1m"},
		{KeyDeclineRate: "half"}, {KeyDeclineRate: "1.5"}, {KeyDeclineRate: "-0.1"},
	} {
		if _, _, err := liveProvider(bad, 0); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
