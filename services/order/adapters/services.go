package adapters

import (
	"context"
	"errors"
	"fmt"
	"github.com/daprshop/platform/pathid"
	"net/http"
	"time"

	"github.com/daprshop/order/app"
	"github.com/daprshop/order/domain"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/invoke"
	"github.com/daprshop/platform/paymentapi"
)

// Services reaches the user, product and payment services through the
// order service's sidecar, so discovery, retries, timeouts and the circuit
// breaker on payments are the sidecar's (dapr-config/resiliency).
type Services struct {
	client *invoke.Client
}

// NewServices calls through client.
func NewServices(client *invoke.Client) *Services { return &Services{client: client} }

// Exists asks the user service, acting as the buyer.
func (s *Services) Exists(ctx context.Context, userID string) (bool, error) {
	err := s.client.Do(ctx, invoke.Call{App: "user", Method: http.MethodGet, Path: "/users/" + pathid.Segment(userID),
		As: &identity.Principal{UserID: userID, Role: identity.RoleCustomer}}, nil)
	if status(err) == http.StatusNotFound {
		return false, nil
	}
	return err == nil, err
}

type line struct {
	ProductID string     `json:"productId"`
	Quantity  int64      `json:"quantity"`
	Name      string     `json:"name,omitempty"`
	UnitPrice *moneyJSON `json:"unitPrice,omitempty"`
}

// Reserve holds stock for the order's lines; the product service answers
// them priced.
func (s *Services) Reserve(ctx context.Context, orderID string, lines []domain.Line, ttl time.Duration) ([]domain.Line, bool, string, error) {
	body := struct {
		OrderID    string `json:"orderId"`
		Lines      []line `json:"lines"`
		TTLSeconds int    `json:"ttlSeconds"`
	}{OrderID: orderID, TTLSeconds: int(ttl.Seconds())}
	for _, l := range lines {
		body.Lines = append(body.Lines, line{ProductID: l.ProductID, Quantity: l.Quantity})
	}
	var res struct {
		Lines []line `json:"lines"`
	}
	err := s.client.Do(ctx, invoke.Call{App: "product", Method: http.MethodPost, Path: "/inventory/reservations", Body: body}, &res)
	var ie *invoke.Error
	if errors.As(err, &ie) && ie.Status == http.StatusConflict {
		return nil, false, ie.Detail, nil // no such product, not enough stock, or the order was cancelled first
	}
	if err != nil {
		return nil, false, "", err
	}
	priced := make([]domain.Line, len(res.Lines))
	for i, l := range res.Lines {
		priced[i] = domain.Line{ProductID: l.ProductID, Quantity: l.Quantity, Name: l.Name, UnitPrice: l.UnitPrice.money()}
	}
	return priced, true, "", nil
}

// Commit turns the order's held stock into sales.
func (s *Services) Commit(ctx context.Context, orderID string) error {
	return s.client.Do(ctx, invoke.Call{App: "product", Method: http.MethodPost, Path: "/inventory/reservations/" + pathid.Segment(orderID) + "/commit"}, nil)
}

// Release gives the order's stock back, held or committed.
func (s *Services) Release(ctx context.Context, orderID string) error {
	return s.client.Do(ctx, invoke.Call{App: "product", Method: http.MethodPost, Path: "/inventory/reservations/" + pathid.Segment(orderID) + "/release"}, nil)
}

// Charge charges the sale's total; a decline is ok=false with the reason.
func (s *Services) Charge(ctx context.Context, o app.Sale) (string, bool, string, error) {
	if o.Total == nil {
		return "", false, "", fmt.Errorf("order %s is not priced", o.OrderID)
	}
	var p struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	err := s.client.Do(ctx, invoke.Call{App: "payment", Method: http.MethodPost, Path: "/payments", Body: map[string]any{
		"orderId": o.OrderID, "email": o.Email, "amount": toMoneyJSON(o.Total), "method": o.PaymentMethod,
	}}, &p)
	if err != nil {
		return "", false, "", err
	}
	return p.ID, p.Status == "succeeded", p.Reason, nil
}

// Refund refunds the order's whole payment once per key.
func (s *Services) Refund(ctx context.Context, orderID, key string) error {
	err := s.client.Do(ctx, invoke.Call{App: "payment", Method: http.MethodPost,
		Path: "/payments/" + pathid.Segment(paymentapi.PaymentID(orderID)) + "/refund",
		Body: map[string]any{"refundKey": key}}, nil)
	var ie *invoke.Error
	if errors.As(err, &ie) && (ie.Type == paymentapi.ProblemOverRefund || ie.Type == paymentapi.ProblemNotFound) {
		// Everything charged has been given back already, or the order
		// was never charged.
		return fmt.Errorf("%w: %s", app.ErrNothingToRefund, ie.Detail)
	}
	// Anything else stays an error: a charge not ended yet is refunded when
	// the compensation is retried; a reused key with another amount is a bug.
	return err
}

func status(err error) int {
	var ie *invoke.Error
	if errors.As(err, &ie) {
		return ie.Status
	}
	return 0
}
