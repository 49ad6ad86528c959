// One contract suite for every Store: the in-memory fake the other tests
// use and the Dapr adapter (against a stand-in sidecar), so the fake cannot
// drift from what the real store does. Then what only the adapter does:
// the API token, the wire format, ETag errors, deadlines.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { StoreConflict, StoreUnavailable, Reviews } from '../src/reviews.js';
import { DaprStateStore, newDaprClient, isETagMismatch } from '../src/adapters/daprstate.js';
import { FakeStore } from '../testkit/fakestore.js';
import { startFakeSidecar } from '../testkit/fakesidecar.js';

const TOKEN = 'api-token-for-tests';

const review = (userId, rating, at = '2026-01-01T00:00:00.000Z') => ({
  productId: 'p1',
  userId,
  author: userId,
  rating,
  title: 't',
  body: '',
  createdAt: new Date(at),
  updatedAt: new Date(at),
});

let sidecar;
before(async () => {
  sidecar = await startFakeSidecar({ token: TOKEN });
});
after(async () => {
  await sidecar.close();
});

function dapr({ timeoutMs } = {}) {
  const client = newDaprClient({ host: '127.0.0.1', httpPort: sidecar.port, apiToken: TOKEN });
  return new DaprStateStore(client, 'reviews-store', { timeoutMs });
}

const stores = {
  fake: () => new FakeStore(),
  dapr: () => {
    sidecar.data.clear();
    return dapr();
  },
};

for (const [name, make] of Object.entries(stores)) {
  describe(`store contract: ${name}`, () => {
    it('records what a buyer received, idempotently', async () => {
      const s = make();
      assert.equal(await s.received('u1', 'p1'), false);
      await s.markReceived('u1', ['p1', 'p2'], 'o1');
      await s.markReceived('u1', ['p1'], 'o1');
      assert.equal(await s.received('u1', 'p1'), true);
      assert.equal(await s.received('u1', 'p2'), true);
      assert.equal(await s.received('u2', 'p1'), false);
    });

    it('commits a review with its index, under their ETags', async () => {
      const s = make();
      assert.equal(await s.review('p1', 'u1'), null);
      assert.equal(await s.index('p1'), null);
      const idx = await s.indexForUpdate('p1');
      assert.deepEqual(idx.value, { users: [], count: 0, sum: 0 });
      assert.ok(idx.etag);
      const again = await s.indexForUpdate('p1');
      assert.equal(again.etag, idx.etag, 'an existing index is not written again');

      await s.commit('p1', 'u1', {
        review: { value: review('u1', 4), etag: null },
        index: { value: { users: ['u1'], count: 1, sum: 4 }, etag: idx.etag },
      });
      const got = await s.review('p1', 'u1');
      assert.deepEqual(got.value, review('u1', 4));
      const idx2 = await s.index('p1');
      assert.deepEqual(idx2.value, { users: ['u1'], count: 1, sum: 4 });
      assert.notEqual(idx2.etag, idx.etag);

      // A writer that read the index before: refused.
      await assert.rejects(
        s.commit('p1', 'u2', {
          review: { value: review('u2', 1), etag: null },
          index: { value: { users: ['u2'], count: 1, sum: 1 }, etag: idx.etag },
        }),
        StoreConflict,
      );
      // A stale review ETag: refused too.
      await assert.rejects(
        s.commit('p1', 'u1', {
          review: { value: review('u1', 2), etag: 'stale' },
          index: { value: idx2.value, etag: idx2.etag },
        }),
        StoreConflict,
      );
      assert.equal((await s.review('p1', 'u2')), null);
      assert.deepEqual((await s.review('p1', 'u1')).value, review('u1', 4));

      await s.commit('p1', 'u1', {
        review: { value: null, etag: got.etag },
        index: { value: { users: [], count: 0, sum: 0 }, etag: idx2.etag },
      });
      assert.equal(await s.review('p1', 'u1'), null);
    });

    it('reads many reviews in the order asked, leaving out missing ones', async () => {
      const s = make();
      let idx = await s.indexForUpdate('p1');
      for (const [u, r] of [['a', 1], ['b', 2], ['c', 3]]) {
        await s.commit('p1', u, { review: { value: review(u, r), etag: null }, index: { value: idx.value, etag: idx.etag } });
        idx = await s.index('p1');
      }
      const got = await s.reviews('p1', ['c', 'x', 'a']);
      assert.deepEqual(got.map((r) => r.userId), ['c', 'a']);
      assert.ok(got[0].createdAt instanceof Date);
    });

    it('carries the use cases end to end', async () => {
      const reviews = new Reviews(make(), { maxBackoffMs: 1 });
      await reviews.recordShipment({ orderId: 'o1', userId: 'u1', productIds: ['p1'] });
      await reviews.recordShipment({ orderId: 'o2', userId: 'u2', productIds: ['p1'] });
      const who = (u) => ({ userId: u, role: 'customer', email: `${u}@x.io` });
      await Promise.all([
        reviews.write('p1', who('u1'), { rating: 5, title: 'a', body: '' }),
        reviews.write('p1', who('u2'), { rating: 2, title: 'b', body: '' }),
      ]);
      const page = await reviews.list('p1');
      assert.deepEqual([page.count, page.average, page.items.length], [2, 3.5, 2]);
    });
  });
}

describe('Dapr adapter', () => {
  it('presents the API token and sends first-write operations with their ETags', async () => {
    sidecar.data.clear();
    sidecar.requests.length = 0;
    const s = dapr();
    const idx = await s.indexForUpdate('p9');
    await s.commit('p9', 'u1', {
      review: { value: review('u1', 3), etag: null },
      index: { value: { users: ['u1'], count: 1, sum: 3 }, etag: idx.etag },
    });
    const state = sidecar.requests.filter((r) => r.path.startsWith('/v1.0/state/'));
    assert.ok(state.length > 0);
    for (const r of state) assert.equal(r.headers['dapr-api-token'], TOKEN);
    const tx = state.find((r) => r.path === '/v1.0/state/reviews-store/transaction');
    const [rev, index] = tx.body.operations;
    assert.equal(rev.request.key, 'review|p9|u1');
    assert.equal(rev.request.options.concurrency, 'first-write');
    assert.equal(rev.request.value.createdAt, '2026-01-01T00:00:00.000Z');
    assert.equal(index.request.key, 'index|p9');
    assert.equal(index.request.etag, idx.etag);
    assert.equal(index.request.options.concurrency, 'first-write');
  });

  it('tells ETag mismatches from other sidecar errors', () => {
    const sdkError = (status, body) => new Error(JSON.stringify({ error: 'x', error_msg: JSON.stringify(body), status }));
    const tx = (message) => sdkError(500, { errorCode: 'ERR_STATE_TRANSACTION', message });
    assert.equal(isETagMismatch(sdkError(409, { errorCode: 'ERR_STATE_SAVE' })), true);
    assert.equal(isETagMismatch(tx('error while executing state transaction: possible etag mismatch. error from state store: x')), true);
    assert.equal(isETagMismatch(tx('error while executing state transaction: failed to set key reviews||index|p1')), true);
    assert.equal(isETagMismatch(tx('error while executing state transaction: no item was updated')), true);
    assert.equal(isETagMismatch(tx('error while executing state transaction: dial tcp: connection refused')), false);
    assert.equal(isETagMismatch(sdkError(500, { errorCode: 'ERR_STATE_GET', message: 'etag mismatch' })), false);
    assert.equal(isETagMismatch(new Error('fetch failed')), false);
  });

  it('answers StoreUnavailable when the sidecar fails or does not answer in time', async () => {
    const s = dapr({ timeoutMs: 200 });
    sidecar.down = true;
    try {
      await assert.rejects(s.review('p1', 'u1'), StoreUnavailable);
    } finally {
      sidecar.down = false;
    }
    sidecar.hang = true;
    try {
      const t0 = Date.now();
      await assert.rejects(s.index('p1'), /did not answer within 200 ms/);
      assert.ok(Date.now() - t0 < 1000);
    } finally {
      sidecar.hang = false;
    }
  });

  it('is refused without the right API token', async () => {
    const client = newDaprClient({ host: '127.0.0.1', httpPort: sidecar.port, apiToken: 'wrong' });
    await assert.rejects(new DaprStateStore(client, 'reviews-store').review('p1', 'u1'), StoreUnavailable);
  });
});
