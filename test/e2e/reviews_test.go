package e2e

import (
	"testing"
	"time"
)

// reviews drives the Node.js service through the gateway and its sidecar:
// nobody may review a product before an order.shipped event says they
// received it; then one review per buyer, replaced by a second PUT,
// listed with the product's count and average, and removed.
func reviews(t *testing.T, gw client, admin string) {
	kettle := newProduct(t, gw, admin, 5, 1999)
	buyer, stranger := newShopper(t, gw), newShopper(t, gw)
	path := "/api/products/" + kettle + "/reviews"
	review := `{"rating":4,"title":"Boils fast","body":"Quiet too."}`

	expect(t, "review without a token", gw.do("PUT", path+"/mine", review), 401)
	r := buyer.gw.do("PUT", path+"/mine", review, "Authorization", buyer.bearer)
	expect(t, "review before buying", r, 403)

	o := buyer.order("review-"+kettle, "tok_visa", line(kettle, 1))
	expect(t, "order", o, 201)
	if final := buyer.waitFinal(t, o.body["id"].(string), 30*time.Second); final["status"] != "shipped" {
		t.Fatalf("order ended %v", final["status"])
	}
	// order.shipped reaches the reviews service through pub/sub, after the
	// order's own write: the review is refused until it has.
	deadline := time.Now().Add(15 * time.Second)
	for r = buyer.gw.do("PUT", path+"/mine", review, "Authorization", buyer.bearer); r.status == 403 && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		r = buyer.gw.do("PUT", path+"/mine", review, "Authorization", buyer.bearer)
	}
	expect(t, "review after delivery", r, 201)
	if r.body["author"] == buyer.email || r.body["userId"] != buyer.id {
		t.Errorf("review = %v", r.body)
	}
	expect(t, "rewrite", buyer.gw.do("PUT", path+"/mine", `{"rating":5,"title":"Boils faster","body":""}`, "Authorization", buyer.bearer), 200)
	expect(t, "a stranger's review", stranger.gw.do("PUT", path+"/mine", review, "Authorization", stranger.bearer), 403)

	r = buyer.gw.do("PUT", path+"/mine", `{"rating":9,"title":""}`, "Authorization", buyer.bearer)
	expect(t, "invalid review", r, 400)
	if errs, _ := r.body["errors"].([]any); len(errs) != 2 {
		t.Errorf("want 2 field errors (rating, title), got %v", r.body["errors"])
	}

	r = gw.do("GET", path, "")
	expect(t, "list", r, 200)
	items, _ := r.body["items"].([]any)
	if len(items) != 1 || r.body["total"] != 1.0 || r.body["average"] != 5.0 {
		t.Fatalf("reviews = %s", r.raw)
	}
	expect(t, "remove", buyer.gw.do("DELETE", path+"/mine", "", "Authorization", buyer.bearer), 204)
	expect(t, "remove again", buyer.gw.do("DELETE", path+"/mine", "", "Authorization", buyer.bearer), 204)
	if r = gw.do("GET", path, ""); r.body["total"] != 0.0 {
		t.Errorf("after removal: %s", r.raw)
	}
}
