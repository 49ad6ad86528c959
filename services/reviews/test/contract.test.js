// The service against its published contracts: the routes it serves are
// exactly the operations contracts/openapi gives app "reviews" (the public
// ones in gateway.yaml, /api/<path> forwarded as <path>; the deliveries in
// deliveries.yaml), and what it decodes from order.shipped is what
// contracts/events/order.shipped.schema.json admits. The answers themselves
// are checked against gateway.yaml in http.test.js.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { buildApp, decodeShipment } from '../src/http.js';
import { Reviews } from '../src/reviews.js';
import { FakeStore } from '../testkit/fakestore.js';
import { APP, GATEWAY_PREFIX, readDoc, publishedOps, shape, eventSchema } from '../testkit/contracts.js';
import { cloudEvent } from '../testkit/events.js';

const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

function served() {
  const app = buildApp({ reviews: new Reviews(new FakeStore()) });
  return app.served.filter((r) => !PROBES.has(r.path)).map((r) => `${r.method} ${shape(r.path)}`);
}

function sameSet(actual, published, what) {
  for (const op of actual) assert.ok(published.includes(op), `the app serves ${op}, which ${what} does not give x-app: ${APP}`);
  for (const op of published) assert.ok(actual.includes(op), `${what} says ${APP} serves ${op}, and it does not`);
}

describe('routes', () => {
  const routes = served();

  it('are the public operations gateway.yaml gives reviews, both ways', () => {
    const published = publishedOps(readDoc('gateway.yaml'), APP, { stripPrefix: GATEWAY_PREFIX }).map((op) => {
      const [m, p] = op.split(' ');
      return `${m} ${shape(p)}`;
    });
    assert.ok(published.length >= 3, 'gateway.yaml publishes the reviews routes');
    sameSet(
      routes.filter((op) => !op.split(' ')[1].startsWith('/events/')),
      published,
      'gateway.yaml',
    );
  });

  it('are the deliveries deliveries.yaml gives reviews, both ways', () => {
    const published = publishedOps(readDoc('deliveries.yaml'), APP).map((op) => {
      const [m, p] = op.split(' ');
      return `${m} ${shape(p)}`;
    });
    sameSet(
      routes.filter((op) => op.split(' ')[1].startsWith('/events/')),
      published,
      'deliveries.yaml',
    );
  });

  it('every gateway.yaml path names one app, and the public paths keep the /api prefix', () => {
    const doc = readDoc('gateway.yaml');
    for (const [p, item] of Object.entries(doc.paths)) {
      if ([item['x-app']].flat().includes(APP)) {
        assert.equal(typeof item['x-app'], 'string', `${p}: x-app must name one app`);
        assert.ok(p.startsWith(`${GATEWAY_PREFIX}/`), p);
      }
    }
  });
});

describe('order.shipped', () => {
  const validate = eventSchema('order.shipped');
  const sample = cloudEvent({ productIds: ['p1', 'p2'] }).data;

  it('the sample the tests deliver is what the schema admits, and is decoded', () => {
    assert.ok(validate(sample), JSON.stringify(validate.errors));
    assert.deepEqual(decodeShipment({ id: 'e1', data: sample }), { orderId: 'o-1', userId: 'u-ann', productIds: ['p1', 'p2'] });
  });

  it('the decoder takes everything the schema admits', () => {
    const admitted = [
      { ...sample, lines: undefined }, // lines are optional on the topic
      { ...sample, lines: [] },
      { ...sample, lines: [{ productId: 'p1', quantity: 2, unitPrice: { amount: 0, currency: '' } }] },
      { ...sample, total: { amount: 0, currency: '' }, reason: '' },
      { ...sample, at: '2026-01-02T03:04:05.123456789+02:00' },
    ].map((d) => JSON.parse(JSON.stringify(d)));
    for (const d of admitted) {
      assert.ok(validate(d), `schema: ${JSON.stringify(validate.errors)}`);
      assert.ok(decodeShipment({ id: 'e', data: d }), `decoder refused ${JSON.stringify(d)}`);
    }
  });

  it('what the decoder refuses, the schema refuses too', () => {
    const refused = [
      { ...sample, status: 'paid' },
      { ...sample, userId: 1 },
      { ...sample, orderId: undefined },
      { ...sample, at: 'yesterday' },
      { ...sample, total: 5 },
      { ...sample, lines: {} },
      { ...sample, lines: [{ productId: 'p1', unitPrice: { amount: 1, currency: 'EUR' } }] },
      { ...sample, lines: [{ productId: 'p1', quantity: 1.5, unitPrice: { amount: 1, currency: 'EUR' } }] },
    ].map((d) => JSON.parse(JSON.stringify(d)));
    for (const d of refused) {
      assert.equal(decodeShipment({ id: 'e', data: d }), null, JSON.stringify(d));
      assert.equal(validate(d), false, `the schema admits ${JSON.stringify(d)}`);
    }
  });
});
