// An in-memory Store (src/reviews.js) with the ETag semantics of a
// transactional Dapr state store, for unit and HTTP tests. It is stricter
// than Redis: a write without ETag to an existing key is a conflict.
// With rollback: false a failed commit keeps the operations whose ETags
// matched, as Dapr's Redis store does (MULTI/EXEC does not roll back).

import { StoreConflict, StoreUnavailable } from '../src/reviews.js';
import { emptyIndex } from '../src/domain.js';

export class FakeStore {
  constructor({ rollback = true } = {}) {
    this.rollback = rollback;
    this.data = new Map(); // key -> {value, etag}
    this.version = 0;
    this.conflictsToInject = 0; // the next n commits fail as if someone wrote first
    this.failing = false; // every call fails as if the sidecar were down
    this.commits = 0;
  }

  #check() {
    if (this.failing) throw new StoreUnavailable('fake store: down');
  }

  #read(key) {
    const e = this.data.get(key);
    return e ? { value: structuredClone(e.value), etag: e.etag } : null;
  }

  #put(key, value) {
    this.data.set(key, { value: structuredClone(value), etag: String(++this.version) });
  }

  async received(userId, productId) {
    this.#check();
    return this.data.has(`received|${userId}|${productId}`);
  }

  async markReceived(userId, productIds, orderId) {
    this.#check();
    for (const p of productIds) this.#put(`received|${userId}|${p}`, { orderId });
  }

  async review(productId, userId) {
    this.#check();
    return this.#read(`review|${productId}|${userId}`);
  }

  async reviews(productId, userIds) {
    this.#check();
    return userIds.map((u) => this.#read(`review|${productId}|${u}`)).filter(Boolean).map((r) => r.value);
  }

  async index(productId) {
    this.#check();
    return this.#read(`index|${productId}`);
  }

  async indexForUpdate(productId) {
    this.#check();
    const key = `index|${productId}`;
    if (!this.data.has(key)) this.#put(key, emptyIndex());
    return this.#read(key);
  }

  async commit(productId, userId, { review, index }) {
    this.#check();
    this.commits++;
    const ops = [
      { key: `review|${productId}|${userId}`, value: review.value, etag: review.etag },
      { key: `index|${productId}`, value: index.value, etag: index.etag },
    ];
    const ok = (op) => {
      const cur = this.data.get(op.key);
      return op.etag ? cur !== undefined && cur.etag === op.etag : cur === undefined || op.value === null;
    };
    let injected = false;
    if (this.conflictsToInject > 0) {
      this.conflictsToInject--;
      injected = true;
    }
    const failed = injected ? [ops[1]] : ops.filter((op) => !ok(op));
    if (failed.length > 0 && this.rollback) throw new StoreConflict('fake store: ETag mismatch');
    for (const op of ops) {
      if (failed.includes(op)) continue;
      if (op.value === null) this.data.delete(op.key);
      else this.#put(op.key, op.value);
    }
    if (failed.length > 0) throw new StoreConflict('fake store: ETag mismatch (partly applied)');
  }
}
