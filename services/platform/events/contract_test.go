package events

import (
	"bytes"
	"cmp"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/daprshop/platform/contracts"
)

// The data of every topic is published as a JSON Schema,
// contracts/events/<topic>.schema.json, for consumers in any language. These
// tests hold the schemas and the Go payload types together: renaming,
// retyping, adding or removing a field, or making one optional, fails here
// until the schema (the contract consumers read) changes with it.

var at = time.Date(2026, 11, 26, 15, 40, 0, 0, time.UTC)

// contract is one line per topic: a realistic payload of its Go type. The
// literals are unkeyed on purpose: a field added to a type does not compile
// until its sample has it, and then TestSchemasMatchTheGoTypes asks for it
// in the schema.
//
// deadletters has no line and no schema: Dapr moves the original CloudEvent
// there (same id, topic and data; contracts/events.md), so its data is the
// payload of the topic it was first published on, which that topic's schema
// describes. We define nothing of our own on it.
var contract = []struct {
	topic string
	data  any
}{
	{TopicUserRegistered, UserRegistered{"u-1", "ann@example.com", "Ann", "customer", at}},
	{TopicUserUpdated, UserUpdated{"u-1", "ann@example.com", "Ann B", "customer", []string{"name"}, 2, at}},
	{TopicUserDeleted, UserDeleted{"u-1", "ann@example.com", at}},
	{TopicProductCreated, productChanged()},
	{TopicProductUpdated, productChanged()},
	{TopicProductDeleted, ProductDeleted{"demo-00042", at}},
	{TopicInventoryReserved, inventoryReservation()},
	{TopicInventoryReleased, inventoryReservation()},
	{TopicInventoryCommitted, inventoryReservation()},
	{TopicInventoryLowStock, LowStock{"demo-00042", 3, 5, at}},
	{TopicOrderCreated, orderEvent("pending")},
	{TopicOrderPaid, orderEvent("paid")},
	{TopicOrderShipped, orderEvent("shipped")},
	{TopicOrderCancelled, orderEvent("cancelled")},
	{TopicPaymentCompleted, paymentEvent("succeeded")},
	{TopicPaymentFailed, paymentEvent("declined")},
	{TopicPaymentRefunded, paymentEvent("succeeded")},
}

func productChanged() ProductChanged {
	return ProductChanged{"demo-00042", "Nordic Oak Lamp", "Oiled oak, linen shade.", "home", Money{4999, "EUR"}, 12, 2, at}
}

func inventoryReservation() InventoryReservation {
	return InventoryReservation{"o-123", []ReservedLine{{"demo-00042", 2}}, "expired", at.Add(15 * time.Minute), at}
}

func orderEvent(status string) OrderEvent {
	return OrderEvent{"o-123", "u-1", "ann@example.com", status,
		[]OrderLine{{"demo-00001", "Nordic Walnut Colander", 2, Money{14799, "EUR"}}},
		Money{29598, "EUR"}, "payment declined: insufficient funds", at}
}

func paymentEvent(status string) PaymentEvent {
	return PaymentEvent{"pay_o-123", "o-123", "ann@example.com", Money{29598, "EUR"}, Money{29598, "EUR"},
		status, "insufficient funds", at}
}

// Every topic has its schema and every schema file names a topic.
func TestEveryTopicHasASchema(t *testing.T) {
	var want []string
	for _, c := range contract {
		want = append(want, c.topic)
	}
	slices.Sort(want)
	if topics := slices.DeleteFunc(Topics(), func(s string) bool { return s == TopicDeadLetters }); !slices.Equal(want, topics) {
		t.Errorf("contract lines %v\nwant one per topic but deadletters %v", want, topics)
	}
	if got := slices.Sorted(maps.Keys(contracts.EventSchemas(t))); !slices.Equal(got, want) {
		t.Errorf("schemas in contracts/events %v\nwant one per topic %v", got, want)
	}
}

// Each schema describes its Go type as encoding/json writes it.
func TestSchemasMatchTheGoTypes(t *testing.T) {
	sch := contracts.EventSchemas(t)
	for _, c := range contract {
		if s := sch[c.topic]; s != nil {
			checkType(t, c.topic, reflect.TypeOf(c.data), s)
		}
	}
}

// Each schema accepts what its publisher writes and rejects a payload that
// lacks a required field or has one it does not know.
func TestSchemasCheckPayloads(t *testing.T) {
	sch := contracts.EventSchemas(t)
	for _, c := range contract {
		s := sch[c.topic]
		if s == nil {
			continue
		}
		if err := s.Validate(toJSON(t, c.data)); err != nil {
			t.Errorf("%s: %v", c.topic, err)
		}
		// What the schema does not require, a publisher may leave out.
		minimal := toJSON(t, c.data)
		for k := range minimal {
			if !slices.Contains(s.Required, k) {
				delete(minimal, k)
			}
		}
		if err := s.Validate(minimal); err != nil {
			t.Errorf("%s without its optional fields: %v", c.topic, err)
		}
		// Consumers may rely on every required field...
		for _, k := range s.Required {
			d := toJSON(t, c.data)
			delete(d, k)
			if s.Validate(d) == nil {
				t.Errorf("%s: accepted without required %q", c.topic, k)
			}
		}
		// ...and on no other: an added field must be a visible contract change.
		d := toJSON(t, c.data)
		d["unexpected"] = "x"
		if s.Validate(d) == nil {
			t.Errorf("%s: accepted an unknown field", c.topic)
		}
	}

	// Shapes the publishers really send that the samples above do not show.
	unpriced := OrderEvent{"o-123", "u-1", "ann@example.com", "pending",
		[]OrderLine{{ProductID: "demo-00001", Quantity: 2}}, Money{}, "", at} // announced before the checkout prices it
	restated := UserUpdated{"u-1", "ann@example.com", "Ann B", "customer", nil, 2, at} // changed unknown: null
	for topic, data := range map[string]any{TopicOrderCreated: unpriced, TopicUserUpdated: restated} {
		if s := sch[topic]; s == nil {
			t.Errorf("%s: no schema", topic)
		} else if err := s.Validate(toJSON(t, data)); err != nil {
			t.Errorf("%s: %v", topic, err)
		}
	}
}

// checkType compares typ, as encoding/json writes it, with schema s, at path.
func checkType(t *testing.T, path string, typ reflect.Type, s *jsonschema.Schema) {
	t.Helper()
	for s.Ref != nil {
		s = s.Ref
	}
	var want string
	switch k := typ.Kind(); {
	case typ == reflect.TypeFor[time.Time]():
		want = "string"
		if s.Format == nil || s.Format.Name != "date-time" {
			t.Errorf("%s: a time.Time is an RFC 3339 string: want \"format\": \"date-time\"", path)
		}
	case k == reflect.String:
		want = "string"
	case k >= reflect.Int && k <= reflect.Uint64:
		want = "integer"
	case k == reflect.Bool:
		want = "boolean"
	case k == reflect.Slice:
		want = "array"
	case k == reflect.Struct:
		want = "object"
	default:
		t.Fatalf("%s: no JSON type for %s", path, typ)
	}
	var got []string
	if s.Types != nil {
		got = s.Types.ToStrings()
	}
	if typ.Kind() == reflect.Slice { // a nil slice is written as null
		got = slices.DeleteFunc(got, func(s string) bool { return s == "null" })
	}
	if !slices.Equal(got, []string{want}) {
		t.Errorf("%s: schema type %v, Go %s is %q", path, got, typ, want)
	}
	switch {
	case typ.Kind() == reflect.Slice && s.Items2020 != nil:
		checkType(t, path+"[]", typ.Elem(), s.Items2020)
	case typ.Kind() == reflect.Slice:
		t.Errorf("%s: array without items", path)
	case want == "object":
		checkObject(t, path, typ, s)
	}
}

// checkObject checks struct typ's JSON fields both ways against the
// properties of s, and that the ones always written are required.
func checkObject(t *testing.T, path string, typ reflect.Type, s *jsonschema.Schema) {
	t.Helper()
	if s.AdditionalProperties != false {
		t.Errorf("%s: want \"additionalProperties\": false, so that an added field is a contract change", path)
	}
	fields := map[string]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if f.Anonymous {
			t.Errorf("%s: embedded %s: this test does not follow embedded fields", path, f.Name)
		}
		name = cmp.Or(name, f.Name)
		fields[name] = true
		p := s.Properties[name]
		if p == nil {
			t.Errorf("%s.%s: field of %s missing from the schema's properties", path, name, typ)
			continue
		}
		// omitempty leaves out empty strings, numbers and slices, never a
		// struct (Money, time.Time); omitzero leaves out any zero value.
		o := strings.Split(opts, ",")
		mayOmit := slices.Contains(o, "omitzero") || slices.Contains(o, "omitempty") && f.Type.Kind() != reflect.Struct
		if !mayOmit && !slices.Contains(s.Required, name) {
			t.Errorf("%s.%s: always written, so must be required", path, name)
		}
		checkType(t, path+"."+name, f.Type, p)
	}
	for name := range s.Properties {
		if !fields[name] {
			t.Errorf("%s.%s: in the schema, not a field of %s", path, name, typ)
		}
	}
}

// toJSON is v as a schema validates it: marshalled, then decoded with numbers kept exact.
func toJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc.(map[string]any)
}
