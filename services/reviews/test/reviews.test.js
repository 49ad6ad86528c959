// Use cases and domain rules, against the in-memory store; every case runs
// on a store that rolls a failed transaction back and on one that keeps its
// matching half (Dapr's Redis store).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Reviews, TooManyConflicts, StoreUnavailable } from '../src/reviews.js';
import { Invalid, NotEligible, authorOf, average, indexWithReview, indexWithoutReview } from '../src/domain.js';
import { FakeStore } from '../testkit/fakestore.js';

const ann = { userId: 'u-ann', role: 'customer', email: 'ann.lee@example.com' };
const bob = { userId: 'u-bob', role: 'customer', email: 'bob@example.com' };
const good = { rating: 4, title: 'Solid', body: 'Does what it says.' };

function clock(start = Date.parse('2026-01-01T10:00:00Z')) {
  let t = start;
  return () => new Date((t += 1000));
}

function setup(storeOpts) {
  const store = new FakeStore(storeOpts);
  const reviews = new Reviews(store, { now: clock(), maxBackoffMs: 0 });
  return { store, reviews };
}

describe('domain', () => {
  it('shows the part of the email before the @ as author, never the address', () => {
    assert.equal(authorOf('ann.lee@example.com'), 'ann.lee');
    assert.equal(authorOf('"odd@local"@example.com'), '"odd@local"');
    assert.equal(authorOf(''), 'anonymous');
    assert.equal(authorOf('@example.com'), 'anonymous');
  });

  it('keeps count equal to the users listed and the sum of their ratings', () => {
    let idx = { users: [], count: 0, sum: 0 };
    idx = indexWithReview(idx, 'a', 5, null);
    idx = indexWithReview(idx, 'b', 2, null);
    idx = indexWithReview(idx, 'a', 3, 5); // a rewrites: keeps its place
    assert.deepEqual(idx, { users: ['b', 'a'], count: 2, sum: 5 });
    assert.equal(average(idx), 2.5);
    idx = indexWithoutReview(idx, 'b', 2);
    assert.deepEqual(idx, { users: ['a'], count: 1, sum: 3 });
    assert.deepEqual(indexWithoutReview(idx, 'a', null), { users: [], count: 0, sum: 0 });
    assert.equal(average({ users: [], count: 0, sum: 0 }), null);
  });
});

for (const rollback of [true, false]) {
  describe(`use cases (store ${rollback ? 'with' : 'without'} rollback)`, () => {
    it('refuses a review of a product the caller has not received', async () => {
      const { reviews, store } = setup({ rollback });
      await assert.rejects(reviews.write('p1', ann, good), NotEligible);
      await reviews.recordShipment({ orderId: 'o1', userId: 'u-bob', productIds: ['p1'] });
      await assert.rejects(reviews.write('p1', ann, good), NotEligible); // someone else's order
      assert.equal(store.commits, 0);
    });

    it('creates, then replaces, one review per product and user', async () => {
      const { reviews } = setup({ rollback });
      await reviews.recordShipment({ orderId: 'o1', userId: ann.userId, productIds: ['p1', 'p2', 'p1'] });
      const first = await reviews.write('p1', ann, good);
      assert.equal(first.created, true);
      assert.equal(first.review.author, 'ann.lee');
      const second = await reviews.write('p1', ann, { rating: 2, title: '  Broke  ', body: '' });
      assert.equal(second.created, false);
      assert.equal(second.review.title, 'Broke');
      assert.deepEqual(second.review.createdAt, first.review.createdAt);
      assert.ok(second.review.updatedAt > first.review.updatedAt);
      const page = await reviews.list('p1');
      assert.equal(page.count, 1);
      assert.equal(page.average, 2);
      assert.equal(page.items.length, 1);
      assert.equal(page.next, null);
    });

    it('answers the same review, unchanged, when the same content is written again', async () => {
      const { reviews, store } = setup({ rollback });
      await reviews.recordShipment({ orderId: 'o1', userId: ann.userId, productIds: ['p1'] });
      const first = await reviews.write('p1', ann, good);
      const commits = store.commits;
      const again = await reviews.write('p1', ann, good);
      assert.equal(again.created, false);
      assert.deepEqual(again.review, first.review);
      assert.equal(store.commits, commits);
    });

    it('validates before touching the store', async () => {
      const { reviews, store } = setup({ rollback });
      store.failing = true;
      await assert.rejects(reviews.write('p1', ann, { rating: 6, title: '', body: 'x'.repeat(2001) }), (err) => {
        assert.ok(err instanceof Invalid);
        assert.deepEqual(err.fields.map((f) => f.field), ['rating', 'title', 'body']);
        return true;
      });
      await assert.rejects(reviews.list('a|b'), Invalid);
    });

    it('lists newest first, in pages that follow on by cursor', async () => {
      const { reviews } = setup({ rollback });
      const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
      for (const [i, u] of users.entries()) {
        await reviews.recordShipment({ orderId: `o${i}`, userId: u, productIds: ['p1'] });
        await reviews.write('p1', { userId: u, role: 'customer', email: `${u}@x.io` }, { ...good, rating: i + 1 });
      }
      const p1 = await reviews.list('p1', { limit: 2 });
      assert.deepEqual(p1.items.map((r) => r.userId), ['u5', 'u4']);
      assert.equal(p1.count, 5);
      assert.equal(p1.average, 3);
      const p2 = await reviews.list('p1', { limit: 2, ...p1.next });
      assert.deepEqual(p2.items.map((r) => r.userId), ['u3', 'u2']);
      // u2 is removed between pages: the next page still starts after u2's place.
      await reviews.remove('p1', { userId: 'u2', role: 'customer' });
      const p3 = await reviews.list('p1', { limit: 2, ...p2.next });
      assert.deepEqual(p3.items.map((r) => r.userId), ['u1']);
      assert.equal(p3.next, null);
      assert.equal(p3.count, 4);
      assert.equal(p3.average, 3.25);
      // u4 rewrites (keeps its place) and u6 reviews between pages: the next
      // page follows on exactly.
      const q1 = await reviews.list('p1', { limit: 2 });
      assert.deepEqual(q1.items.map((r) => r.userId), ['u5', 'u4']);
      await reviews.write('p1', { userId: 'u4', role: 'customer', email: 'u4@x.io' }, { ...good, rating: 1 });
      await reviews.recordShipment({ orderId: 'o6', userId: 'u6', productIds: ['p1'] });
      await reviews.write('p1', { userId: 'u6', role: 'customer', email: 'u6@x.io' }, good);
      const q2 = await reviews.list('p1', { limit: 2, ...q1.next });
      assert.deepEqual(q2.items.map((r) => r.userId), ['u3', 'u1']);
      assert.equal(q2.next, null);
      const all = await reviews.list('p1');
      assert.deepEqual(all.items.map((r) => r.userId), ['u6', 'u5', 'u4', 'u3', 'u1']);
    });

    it('removes idempotently', async () => {
      const { reviews } = setup({ rollback });
      await reviews.remove('p1', ann); // none: no error, no write
      await reviews.recordShipment({ orderId: 'o1', userId: ann.userId, productIds: ['p1'] });
      await reviews.write('p1', ann, good);
      await reviews.remove('p1', ann);
      await reviews.remove('p1', ann);
      const page = await reviews.list('p1');
      assert.deepEqual([page.count, page.average, page.items.length], [0, null, 0]);
    });

    it('retries a write that lost a race for the index, and counts it once', async () => {
      const { reviews, store } = setup({ rollback });
      for (const who of [ann, bob]) await reviews.recordShipment({ orderId: 'o', userId: who.userId, productIds: ['p1'] });
      await reviews.write('p1', bob, { ...good, rating: 5 });
      await reviews.write('p1', ann, { ...good, rating: 1 });
      store.conflictsToInject = 2;
      const out = await reviews.write('p1', ann, { ...good, rating: 3 });
      assert.equal(out.created, false);
      store.conflictsToInject = 1;
      await reviews.remove('p1', bob);
      const page = await reviews.list('p1');
      assert.deepEqual([page.count, page.average], [1, 3]);
      assert.deepEqual(page.items.map((r) => [r.userId, r.rating]), [['u-ann', 3]]);
    });

    it('counts a new review once when its first commit was half applied', async () => {
      const { reviews, store } = setup({ rollback });
      await reviews.recordShipment({ orderId: 'o', userId: ann.userId, productIds: ['p1'] });
      store.conflictsToInject = 1;
      const out = await reviews.write('p1', ann, good);
      assert.equal(out.created, true);
      const page = await reviews.list('p1');
      assert.deepEqual([page.count, page.average], [1, 4]);
    });

    it('gives up after a bounded number of conflicts', async () => {
      const { reviews, store } = setup({ rollback });
      await reviews.recordShipment({ orderId: 'o', userId: ann.userId, productIds: ['p1'] });
      store.conflictsToInject = 100;
      await assert.rejects(reviews.write('p1', ann, good), TooManyConflicts);
    });

    it('serializes concurrent writers of one product through the index ETag', async () => {
      const { reviews } = setup({ rollback });
      const users = Array.from({ length: 6 }, (_, i) => ({ userId: `c${i}`, role: 'customer', email: `c${i}@x.io` }));
      for (const u of users) await reviews.recordShipment({ orderId: 'o', userId: u.userId, productIds: ['p1'] });
      await Promise.all(users.map((u, i) => reviews.write('p1', u, { ...good, rating: (i % 5) + 1 })));
      const page = await reviews.list('p1', { limit: 100 });
      assert.equal(page.count, 6);
      assert.equal(page.items.length, 6);
      assert.equal(page.average, Math.round(((1 + 2 + 3 + 4 + 5 + 1) / 6) * 100) / 100);
    });

    it('passes a store outage on', async () => {
      const { reviews, store } = setup({ rollback });
      store.failing = true;
      await assert.rejects(reviews.list('p1'), StoreUnavailable);
      await assert.rejects(reviews.recordShipment({ orderId: 'o', userId: 'u', productIds: ['p'] }), StoreUnavailable);
    });
  });
}
