// The reviews store on Dapr's state API (any transactional state store
// component: Redis locally, PostgreSQL or others elsewhere; nothing here
// assumes Redis).
//
// Keys (Dapr prefixes them with the app ID):
//   review|<productId>|<userId>   -> the review (record below)
//   index|<productId>             -> {"users": [userIds, newest first], "count", "sum"}
//                                    (newest by first writing: a rewrite keeps its
//                                    place); pages and the average read it, so a
//                                    page costs one read plus one bulk read
//   received|<userId>|<productId> -> {"orderId"}  the buyer received the product
// IDs are path IDs (domain.isId): they never contain "|", so keys cannot collide.
//
// ETags: the SDK's state.get returns the value only, but its state.getBulk
// returns each item's ETag, so every read goes through getBulk.
// A review and its index are written in one transaction of first-write
// operations carrying the ETags read: if another writer changed either key
// meanwhile, the sidecar refuses it and the use case retries (StoreConflict).
// An index is created once by a lone first-write save without ETag
// (insert-if-absent): inside a transaction, some stores (Redis) cannot refuse
// to overwrite an absent-then-created key, so every index write after that
// carries an ETag.
//
// Deadlines: the SDK's HTTP client takes no timeout or AbortSignal, so
// every call races a timer (#call) and answers StoreUnavailable when
// it fires; the request itself is left to finish in the background.

import { DaprClient, CommunicationProtocolEnum, StateConcurrencyEnum, StateConsistencyEnum, LogLevel } from '@dapr/dapr';

import { StoreConflict, StoreUnavailable } from '../reviews.js';
import { emptyIndex } from '../domain.js';

const DEFAULT_TIMEOUT_MS = 5000;

// Shared by every request: the SDK replaces a request's options with a copy
// before adding to them, so these are never changed.
const firstWrite = {
  concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE,
  consistency: StateConsistencyEnum.CONSISTENCY_STRONG,
};
const lastWrite = {
  concurrency: StateConcurrencyEnum.CONCURRENCY_LAST_WRITE,
  consistency: StateConsistencyEnum.CONSISTENCY_STRONG,
};

const reviewKey = (productId, userId) => `review|${productId}|${userId}`;
const indexKey = (productId) => `index|${productId}`;
const receivedKey = (userId, productId) => `received|${userId}|${productId}`;

/**
 * A DaprClient over HTTP. Its logger is held at warn: at debug the SDK logs
 * every request's headers, API token included. getLog answers the logger.
 */
export function newDaprClient({ host, httpPort, apiToken, getLog }) {
  return new DaprClient({
    daprHost: host,
    daprPort: String(httpPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    daprApiToken: apiToken || undefined,
    logger: { level: LogLevel.Warn, service: sdkLogger(getLog) },
  });
}

// The SDK's log lines go to the service's logger; getLog is called on use,
// as the client is made before the logger. The SDK logs the errors it also
// returns (a lost insert race, a failed call); the store handles those and
// the port logs them once, so the SDK's copies are debug lines.
function sdkLogger(getLog) {
  const to = (level) => (msg, ...rest) => {
    const log = getLog && getLog();
    if (log) log[level]({ component: 'dapr-sdk', detail: rest.length ? rest.map(String) : undefined }, String(msg));
  };
  return { error: to('debug'), warn: to('warn'), info: to('info'), verbose: to('debug'), debug: to('debug') };
}

export class DaprStateStore {
  /**
   * @param {{state: object}} client a DaprClient (its state API is all this uses)
   * @param {string} storeName the state store component's name
   * @param {{timeoutMs?: number}} [opts]
   */
  constructor(client, storeName, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    this.client = client;
    this.name = storeName;
    this.timeoutMs = timeoutMs;
  }

  async received(userId, productId) {
    const [item] = await this.#get([receivedKey(userId, productId)]);
    return item !== null;
  }

  async markReceived(userId, productIds, orderId) {
    // Last-write, no ETag: these keys are only ever overwritten with an
    // equivalent fact, so a redelivery or a second order changes nothing
    // that matters; one transaction records all of an order's lines.
    const ops = productIds.map((productId) => ({
      operation: 'upsert',
      request: { key: receivedKey(userId, productId), value: { orderId }, options: lastWrite },
    }));
    await this.#call('transaction', () => this.client.state.transaction(this.name, ops));
  }

  async review(productId, userId) {
    const [item] = await this.#get([reviewKey(productId, userId)]);
    return item && { value: fromRecord(item.value), etag: item.etag };
  }

  async reviews(productId, userIds) {
    const items = await this.#get(userIds.map((u) => reviewKey(productId, u)));
    return items.filter((i) => i !== null).map((i) => fromRecord(i.value));
  }

  async index(productId) {
    const [item] = await this.#get([indexKey(productId)]);
    return item && { value: fromIndexRecord(item.value), etag: item.etag };
  }

  async indexForUpdate(productId) {
    const found = await this.index(productId);
    if (found) return found;
    // Insert-if-absent; if a concurrent writer created it first the save
    // fails (the SDK answers {error} rather than throwing) and the read below
    // finds theirs.
    const saved = await this.#call('save', () =>
      this.client.state.save(this.name, [
        { key: indexKey(productId), value: emptyIndex(), options: firstWrite },
      ]),
    );
    const created = await this.index(productId);
    if (created) return created;
    throw new StoreUnavailable(`state store ${this.name}: could not create ${indexKey(productId)}`, {
      cause: saved && saved.error,
    });
  }

  async commit(productId, userId, { review, index }) {
    const rk = reviewKey(productId, userId);
    const ops = [
      review.value === null ? guarded('delete', rk, null, review.etag) : guarded('upsert', rk, toRecord(review.value), review.etag),
      guarded('upsert', indexKey(productId), index.value, index.etag),
    ];
    await this.#call('transaction', () => this.client.state.transaction(this.name, ops));
  }

  // Reads keys in one bulk call; each answer is {value, etag} or null.
  async #get(keys) {
    const items = await this.#call('bulk get', () => this.client.state.getBulk(this.name, keys));
    if (!Array.isArray(items)) throw new StoreUnavailable(`state store ${this.name}: unexpected bulk answer`);
    const byKey = new Map(items.map((i) => [i.key, i]));
    return keys.map((k) => {
      const i = byKey.get(k);
      if (i && i.error) throw new StoreUnavailable(`state store ${this.name}: reading ${k}: ${i.error}`);
      if (!i || i.data === undefined || i.data === null || i.data === '') return null;
      return { value: typeof i.data === 'string' ? JSON.parse(i.data) : i.data, etag: i.etag ?? null };
    });
  }

  // One SDK call under the deadline. An ETag mismatch is StoreConflict;
  // any other sidecar error, and no answer at all, is StoreUnavailable.
  async #call(what, fn) {
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailable(`state store ${this.name}: ${what} did not answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([fn(), deadline]);
    } catch (err) {
      if (err instanceof StoreUnavailable) throw err;
      if (isETagMismatch(err)) throw new StoreConflict(`state store ${this.name}: ETag mismatch`, { cause: err });
      throw new StoreUnavailable(`state store ${this.name}: ${what} failed: ${err.message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}

// A transaction operation applied only if key still has etag, or, without
// one, does not exist yet.
function guarded(operation, key, value, etag) {
  const request = { key, options: firstWrite };
  if (value !== null) request.value = value;
  if (etag) request.etag = etag;
  return { operation, request };
}

// The SDK throws Error(JSON {error, error_msg, status}) for a non-2xx answer.
// An ETag mismatch is 409 on single-key writes; a transaction answers 500
// ERR_STATE_TRANSACTION with the store's message: "possible etag mismatch"
// (most stores), "no item was updated" (PostgreSQL v2 refusing a first-write
// insert of a key that exists) or "failed to set key" / "failed to delete"
// (Redis' scripts that compare versions).
export function isETagMismatch(err) {
  let info;
  try {
    info = JSON.parse(err && err.message);
  } catch {
    return false;
  }
  if (!info || typeof info !== 'object') return false;
  if (info.status === 409) return true;
  const body = String(info.error_msg ?? '');
  return /ERR_STATE_TRANSACTION/.test(body) && /etag mismatch|no item was updated|failed to set key|failed to delete/i.test(body);
}

// The stored format (ISO timestamps, no Dates). It mirrors http.js's
// toResponse today, but is kept apart on purpose: changing it needs a
// migration of stored data, changing the other a contract change.
function toRecord(r) {
  return {
    productId: r.productId,
    userId: r.userId,
    author: r.author,
    rating: r.rating,
    title: r.title,
    body: r.body,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

function fromRecord(rec) {
  return { ...rec, createdAt: new Date(rec.createdAt), updatedAt: new Date(rec.updatedAt) };
}

function fromIndexRecord(rec) {
  const users = Array.isArray(rec.users) ? rec.users : [];
  return { users, count: users.length, sum: Number(rec.sum) || 0 };
}
