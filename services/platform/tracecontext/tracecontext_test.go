package tracecontext_test

import (
	"context"
	"net/http"
	"testing"

	"google.golang.org/grpc/metadata"

	"github.com/daprshop/platform/tracecontext"
)

func TestCarriesOnlyValidTraceparents(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ctx := tracecontext.With(context.Background(), tp)
	if tracecontext.From(ctx) != tp || tracecontext.TraceID(ctx) != "0af7651916cd43dd8448eb211c80319c" {
		t.Fatalf("carried %q", tracecontext.From(ctx))
	}
	h := http.Header{}
	tracecontext.Inject(ctx, h)
	if h.Get("traceparent") != tp {
		t.Errorf("header %q", h.Get("traceparent"))
	}
	md, _ := metadata.FromOutgoingContext(tracecontext.OutgoingGRPC(ctx))
	if got := md.Get("traceparent"); len(got) != 1 || got[0] != tp {
		t.Errorf("gRPC metadata %v", got)
	}
	for _, bad := range []string{"", "garbage", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"00-00000000000000000000000000000000-b7ad6b7169203331-01", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"} {
		if tracecontext.From(tracecontext.With(context.Background(), bad)) != "" {
			t.Errorf("%q carried", bad)
		}
	}
}
