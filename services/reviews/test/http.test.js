// The HTTP port through fastify's inject: the real routes, the real use
// cases, the in-memory store. Every answer on a public route is also held
// to contracts/openapi/gateway.yaml (assertDocumented).

import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import { buildApp, decodeCursor } from '../src/http.js';
import { Reviews } from '../src/reviews.js';
import { FakeStore } from '../testkit/fakestore.js';
import { assertDocumented } from '../testkit/contracts.js';
import { cloudEvent } from '../testkit/events.js';

const ann = { 'x-user-id': 'u-ann', 'x-user-role': 'customer', 'x-user-email': 'ann@example.com' };
const bob = { 'x-user-id': 'u-bob', 'x-user-role': 'customer', 'x-user-email': 'bob.b@example.org' };
const good = { rating: 5, title: 'Great kettle', body: 'Boils fast.' };

let store;
let app;

function make(opts = {}) {
  store = new FakeStore();
  app = buildApp({ reviews: new Reviews(store, { maxBackoffMs: 0 }), ...opts });
  return app;
}

// A public route's answer, checked against the contract.
async function call(method, url, { headers = {}, body } = {}) {
  const res = await app.inject({
    method,
    url,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  assertDocumented(method, url, res);
  return res;
}

const json = (res) => JSON.parse(res.body);

function assertProblem(res, status, fields) {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.headers['content-type'], 'application/problem+json'); // exactly, as the Go services send it
  const p = json(res);
  assert.equal(p.status, status);
  assert.equal(typeof p.title, 'string');
  assert.equal(typeof p.type, 'string');
  if (fields) assert.deepEqual(p.errors.map((e) => e.field).sort(), [...fields].sort());
  return p;
}

async function ship(userId, productIds, orderId = 'o-1') {
  const res = await app.inject({
    method: 'POST',
    url: '/events/order.shipped',
    headers: { 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify(cloudEvent({ userId, orderId, productIds })),
  });
  assert.deepEqual(json(res), { status: 'SUCCESS' });
}

describe('reviews API', () => {
  beforeEach(() => make());

  it('serves the probes', async () => {
    assert.deepEqual(json(await app.inject('/healthz')), { status: 'ok' });
    assert.equal((await app.inject('/readyz')).statusCode, 200);
    make({
      ready: async () => {
        throw new Error('dapr sidecar unreachable');
      },
    });
    assertProblem(await app.inject('/readyz'), 503);
  });

  it('lists an unreviewed product as empty', async () => {
    const res = await call('GET', '/products/p1/reviews');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(json(res), { items: [], total: 0, average: null });
  });

  it('refuses writes without the identity the gateway sets', async () => {
    assertProblem(await call('PUT', '/products/p1/reviews/mine', { body: good }), 401);
    assertProblem(await call('PUT', '/products/p1/reviews/mine', { body: good, headers: { 'x-user-id': 'u-ann' } }), 401);
    const { 'x-user-email': _, ...noEmail } = ann;
    assertProblem(await call('PUT', '/products/p1/reviews/mine', { body: good, headers: noEmail }), 401);
    assertProblem(await call('DELETE', '/products/p1/reviews/mine'), 401);
  });

  it('refuses a buyer who has not received the product', async () => {
    await ship('u-bob', ['p1']);
    const p = assertProblem(await call('PUT', '/products/p1/reviews/mine', { body: good, headers: ann }), 403);
    assert.equal(p.detail, 'only buyers who received this product may review it');
  });

  it('answers field-level problems for invalid input', async () => {
    await ship('u-ann', ['p1']);
    const p = assertProblem(
      await call('PUT', '/products/p1/reviews/mine', {
        body: { rating: 0, title: ' ', body: 'x'.repeat(2001), extra: true },
        headers: ann,
      }),
      400,
      ['rating', 'title', 'body', 'extra'],
    );
    assert.equal(p.detail, 'the request has invalid fields');
    assertProblem(await call('PUT', '/products/p1/reviews/mine', { body: { rating: 4.5, title: 'x'.repeat(121) }, headers: ann }), 400, [
      'rating',
      'title',
    ]);
    assertProblem(await call('PUT', '/products/p1/reviews/mine', { body: { rating: '5', title: 'ok' }, headers: ann }), 400, ['rating']);
    assertProblem(await call('PUT', '/products/p1/reviews/mine', { body: [1], headers: ann }), 400, ['']);
    assertProblem(await call('PUT', '/products/p1/reviews/mine', { body: '{"rating":', headers: ann }), 400);
    assertProblem(await call('PUT', '/products/p1/reviews/mine', { body: { ...good, body: 'x'.repeat(17 * 1024) }, headers: ann }), 413);
    assertProblem(await call('PUT', '/products/bad%7Cid/reviews/mine', { body: good, headers: ann }), 400, ['productId']);
    assertProblem(await call('GET', '/products/p1/reviews?limit=0'), 400, ['limit']);
    assertProblem(await call('GET', '/products/p1/reviews?limit=101&cursor=%%%'), 400, ['limit', 'cursor']);
    assertProblem(await call('GET', '/products/p1/reviews?limit=abc'), 400, ['limit']);
    assertProblem(await call('GET', '/products/p1/reviews?cursor=eyJhIjoxfQ'), 400, ['cursor']);
  });

  it('creates (201), replaces (200) and removes (204) the caller\'s review', async () => {
    await ship('u-ann', ['p1', 'p2']);
    let res = await call('PUT', '/products/p1/reviews/mine', { body: good, headers: ann });
    assert.equal(res.statusCode, 201);
    const created = json(res);
    assert.equal(created.author, 'ann');
    assert.equal(created.productId, 'p1');
    assert.equal(created.userId, 'u-ann');
    assert.ok(!JSON.stringify(created).includes('@'), 'no email in a review');

    res = await call('PUT', '/products/p1/reviews/mine', { body: { rating: 3, title: 'Good kettle' }, headers: ann });
    assert.equal(res.statusCode, 200);
    assert.equal(json(res).body, '');
    assert.equal(json(res).createdAt, created.createdAt);

    res = await call('PUT', '/products/p1/reviews/mine', { body: { rating: 3, title: 'Good kettle' }, headers: ann });
    assert.equal(res.statusCode, 200, 'the same PUT again: same answer');

    res = await call('GET', '/products/p1/reviews');
    assert.deepEqual([json(res).total, json(res).average, json(res).items.length], [1, 3, 1]);

    res = await call('DELETE', '/products/p1/reviews/mine', { headers: ann });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    res = await call('DELETE', '/products/p1/reviews/mine', { headers: ann });
    assert.equal(res.statusCode, 204, 'idempotent');
    assert.deepEqual(json(await call('GET', '/products/p1/reviews')), { items: [], total: 0, average: null });
  });

  it('pages newest first with an opaque cursor', async () => {
    const users = Array.from({ length: 5 }, (_, i) => `u${i}`);
    for (const [i, u] of users.entries()) {
      await ship(u, ['p1'], `o${i}`);
      const res = await call('PUT', '/products/p1/reviews/mine', {
        body: { rating: i + 1, title: `t${i}`, body: '' },
        headers: { 'x-user-id': u, 'x-user-role': 'customer', 'x-user-email': `${u}@x.io` },
      });
      assert.equal(res.statusCode, 201);
    }
    const seen = [];
    let url = '/products/p1/reviews?limit=2';
    for (let pages = 0; url; pages++) {
      assert.ok(pages < 5);
      const page = json(await call('GET', url));
      assert.equal(page.total, 5);
      assert.equal(page.average, 3);
      seen.push(...page.items.map((r) => r.userId));
      if (page.nextCursor) assert.ok(decodeCursor(page.nextCursor));
      url = page.nextCursor ? `/products/p1/reviews?limit=2&cursor=${page.nextCursor}` : null;
    }
    assert.deepEqual(seen, ['u4', 'u3', 'u2', 'u1', 'u0']);
  });

  it('answers 503 with Retry-After while the store is down', async () => {
    store.failing = true;
    const res = await call('GET', '/products/p1/reviews');
    const p = assertProblem(res, 503);
    assert.equal(p.type, 'urn:daprshop:problem:unavailable');
    assert.equal(res.headers['retry-after'], '5');
  });

  it('answers 404 and 405 as problems, and names the request', async () => {
    let res = await app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'req-42', 'x-forwarded-prefix': '/api' } });
    const p = assertProblem(res, 404);
    assert.equal(p.requestId, 'req-42');
    assert.equal(p.instance, '/api/nope');
    assert.equal(res.headers['x-request-id'], 'req-42');
    res = await app.inject({ method: 'POST', url: '/products/p1/reviews' });
    assertProblem(res, 405);
    assert.equal(res.headers.allow, 'GET');
  });
});

describe('app token', () => {
  beforeEach(() => make({ appToken: 's3cret' }));

  it('admits only calls that carry the sidecar\'s token, probes aside', async () => {
    let res = await app.inject('/products/p1/reviews');
    assert.equal(assertProblem(res, 401).detail, 'calls to this service must come through its Dapr sidecar');
    res = await app.inject({ url: '/products/p1/reviews', headers: { 'dapr-api-token': 's3cret-but-longer' } });
    assertProblem(res, 401);
    res = await app.inject({ url: '/products/p1/reviews', headers: { 'dapr-api-token': 's3cret' } });
    assert.equal(res.statusCode, 200);
    assert.equal((await app.inject('/healthz')).statusCode, 200);
    assert.equal((await app.inject('/readyz?x=1')).statusCode, 200);
    res = await app.inject({ method: 'POST', url: '/events/order.shipped', payload: cloudEvent() });
    assertProblem(res, 401);
  });
});

describe('order.shipped deliveries', () => {
  beforeEach(() => make());

  const deliver = (payload, headers = {}) =>
    app.inject({
      method: 'POST',
      url: '/events/order.shipped',
      headers: { 'content-type': 'application/cloudevents+json', ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  it('records every line, idempotently, and answers SUCCESS', async () => {
    const ce = cloudEvent({ productIds: ['p1', 'p2'] });
    assert.deepEqual(json(await deliver(ce)), { status: 'SUCCESS' });
    assert.deepEqual(json(await deliver(ce)), { status: 'SUCCESS' }, 'a redelivery is harmless');
    assert.equal(await store.received('u-ann', 'p1'), true);
    assert.equal(await store.received('u-ann', 'p2'), true);
    assert.equal(await store.received('u-ann', 'p3'), false);
    const res = await app.inject({ method: 'POST', url: '/events/order.shipped', payload: ce }); // application/json
    assert.deepEqual(json(res), { status: 'SUCCESS' });
  });

  it('answers DROP for what can never be handled', async () => {
    const ce = cloudEvent();
    for (const bad of [
      '{not json',
      '[]',
      { ...ce, id: undefined },
      { ...ce, id: '' },
      { ...ce, data: 'x' },
      { ...ce, data: { ...ce.data, status: 'paid' } },
      { ...ce, data: { ...ce.data, userId: 7 } },
      { ...ce, data: { ...ce.data, lines: [{ productId: 'p1' }] } },
      { ...ce, data: { ...ce.data, lines: [{ ...ce.data.lines[0], productId: '../x' }] } },
    ]) {
      const res = await deliver(bad);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(json(res), { status: 'DROP' }, JSON.stringify(bad));
    }
    assert.deepEqual(json(await deliver(ce, { 'content-type': 'text/plain' })), { status: 'DROP' });
  });

  it('answers RETRY when the store fails', async () => {
    store.failing = true;
    assert.deepEqual(json(await deliver(cloudEvent())), { status: 'RETRY' });
  });

  it('refuses invocations from other apps', async () => {
    const res = await deliver(cloudEvent(), { 'dapr-caller-app-id': 'order' });
    assertProblem(res, 403);
    assert.equal(await store.received('u-ann', 'p1'), false);
  });

  it('lets the buyer review what was shipped', async () => {
    await deliver(cloudEvent({ productIds: ['p7'] }));
    const res = await call('PUT', '/products/p7/reviews/mine', { body: good, headers: ann });
    assert.equal(res.statusCode, 201);
  });
});

describe('contract test helper', () => {
  beforeEach(() => make());
  it('catches an answer the contract does not admit', async () => {
    const res = await app.inject('/products/p1/reviews');
    const bad = { ...res, body: JSON.stringify({ items: [], total: 0 }) };
    assert.throws(() => assertDocumented('GET', '/products/p1/reviews', bad), /average/);
    assert.throws(() => assertDocumented('GET', '/products/p1/reviews', { ...res, statusCode: 201 }), /not documented/);
  });
});

describe('metrics', () => {
  it('/metrics has the Go services\' request metrics, with mux-style route templates, without the app token', async () => {
    make({ appToken: 'secret' });
    await call('GET', '/products/p1/reviews', { headers: { 'dapr-api-token': 'secret' } });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /^http_requests_total\{method="GET",route="\/products\/\{productId\}\/reviews",status="200"\} 1$/m);
    assert.match(res.body, /^http_request_duration_seconds_bucket\{le="0.001",method="GET",route="\/products\/\{productId\}\/reviews",status="200"\}/m);
    assert.match(res.body, /^process_resident_memory_bytes /m);
  });
});
