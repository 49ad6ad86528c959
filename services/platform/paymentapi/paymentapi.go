// Package paymentapi is the contract of the payment service's API with its
// callers beyond the payloads: the problem types its refusals carry, so the
// order service can tell them apart instead of reading every 409 alike, and
// the rule that names an order's payment.
// It imports nothing of Dapr or of either service.
package paymentapi

import "strings"

// Problem types (RFC 9457 "type") of the payment service's answers.
const (
	// ProblemNotFound: no payment has this ID (404).
	ProblemNotFound = "urn:daprshop:problem:payment:not-found"
	// ProblemChargeMismatch: the order was already charged with another
	// amount or payment method (409).
	ProblemChargeMismatch = "urn:daprshop:problem:payment:charge-mismatch"
	// ProblemVoided: the order's payment was refunded before any charge (the
	// order was cancelled), so a charge is refused (409).
	ProblemVoided = "urn:daprshop:problem:payment:voided"
	// ProblemNotCaptured: the charge has not ended yet, so there is nothing
	// to refund yet; ask again later (409).
	ProblemNotCaptured = "urn:daprshop:problem:payment:not-captured"
	// ProblemOverRefund: the refund would exceed what is left of the
	// charge: everything has been given back already (409).
	ProblemOverRefund = "urn:daprshop:problem:payment:over-refund"
	// ProblemRefundKeyReused: the refund key was used with another amount (409).
	ProblemRefundKeyReused = "urn:daprshop:problem:payment:refund-key-reused"
	// ProblemProviderUnavailable: the provider failed in a way worth
	// retrying (503).
	ProblemProviderUnavailable = "urn:daprshop:problem:payment:provider-unavailable"
)

// PaymentID is the ID of an order's payment: an order has at most one, so a
// compensation can refund it without having recorded the charge's answer.
func PaymentID(orderID string) string { return paymentPrefix + orderID }

// OrderID is the order a payment ID names, by the same rule.
func OrderID(paymentID string) (string, bool) { return strings.CutPrefix(paymentID, paymentPrefix) }

const paymentPrefix = "pay_"
