package hostlock

import (
	"context"
	"testing"
	"time"
)

func TestOneHolderAtATime(t *testing.T) {
	name := "test-" + t.Name() + time.Now().Format("150405.000000000")
	release, ok, err := Try(name)
	if err != nil || !ok {
		t.Fatalf("first Try: ok=%v err=%v", ok, err)
	}
	if _, ok, _ := Try(name); ok {
		t.Fatal("a second holder took a held lock")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := Wait(ctx, name); err == nil {
		t.Fatal("Wait took a held lock")
	}
	release()
	again, err := Wait(context.Background(), name)
	if err != nil {
		t.Fatalf("Wait after release: %v", err)
	}
	again()
}
