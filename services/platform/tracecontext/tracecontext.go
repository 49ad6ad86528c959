// Package tracecontext carries the W3C traceparent of the request being
// served into the calls made for it, so the sidecars put them in one trace.
// Dapr starts and continues traces itself; an app only has to hand the
// header on, also across a workflow (which runs its steps later, with no
// request in sight).
package tracecontext

import (
	"context"
	"net/http"
	"strings"

	"google.golang.org/grpc/metadata"
)

// Header is the W3C trace context header.
const Header = "traceparent"

type key struct{}

// With returns ctx carrying traceparent (nothing changes when it is not one).
func With(ctx context.Context, traceparent string) context.Context {
	if !Valid(traceparent) {
		return ctx
	}
	return context.WithValue(ctx, key{}, traceparent)
}

// From returns the traceparent ctx carries, or "".
func From(ctx context.Context) string {
	tp, _ := ctx.Value(key{}).(string)
	return tp
}

// TraceID is the trace ID part of the traceparent ctx carries, or "".
func TraceID(ctx context.Context) string {
	if tp := From(ctx); tp != "" {
		return strings.Split(tp, "-")[1]
	}
	return ""
}

// Inject sets the traceparent of ctx on an outgoing HTTP request's headers.
func Inject(ctx context.Context, h http.Header) {
	if tp := From(ctx); tp != "" {
		h.Set(Header, tp)
	}
}

// OutgoingGRPC adds the traceparent of ctx to the gRPC metadata of calls
// made with the returned context (the sidecar's gRPC API reads it there).
func OutgoingGRPC(ctx context.Context) context.Context {
	if tp := From(ctx); tp != "" {
		return metadata.AppendToOutgoingContext(ctx, Header, tp)
	}
	return ctx
}

// Valid reports whether tp is a version-00 traceparent: 00-<32 hex>-<16 hex>-<2 hex>.
func Valid(tp string) bool {
	parts := strings.Split(tp, "-")
	if len(tp) != 55 || len(parts) != 4 || parts[0] != "00" || len(parts[1]) != 32 || len(parts[2]) != 16 || len(parts[3]) != 2 {
		return false
	}
	for _, c := range tp {
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return parts[1] != strings.Repeat("0", 32) && parts[2] != strings.Repeat("0", 16)
}
