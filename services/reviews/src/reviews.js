// Use cases: list a product's reviews, write or remove the caller's own, and
// record what a buyer received. They see storage only through the narrow
// store interface below, so a unit test drives them with an in-memory fake.

import {
  Invalid,
  NotEligible,
  ID_RULE,
  isId,
  newReview,
  sameContent,
  emptyIndex,
  average,
  indexWithReview,
  indexWithoutReview,
} from './domain.js';

/**
 * The store the use cases need (src/adapters/daprstate.js is the real one).
 * Reads answer {value, etag} or null; commit writes a review and its
 * product's index together, each only if unchanged since its ETag was read.
 *
 * @typedef {object} Store
 * @property {(userId: string, productId: string) => Promise<boolean>} received
 * @property {(userId: string, productIds: string[], orderId: string) => Promise<void>} markReceived
 * @property {(productId: string, userId: string) => Promise<{value: object, etag: string}|null>} review
 * @property {(productId: string, userIds: string[]) => Promise<object[]>} reviews  in the given order, missing ones left out
 * @property {(productId: string) => Promise<{value: object, etag: string}|null>} index
 * @property {(productId: string) => Promise<{value: object, etag: string}>} indexForUpdate  creates an empty index if there is none, so every index write carries an ETag
 * @property {(productId: string, userId: string, change: {review: {value: object|null, etag: string|null}, index: {value: object, etag: string}}) => Promise<void>} commit  value null deletes; throws StoreConflict on an ETag mismatch
 */

/** An ETag did not match: someone wrote in between. The store throws it. */
export class StoreConflict extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'StoreConflict';
  }
}

/** The sidecar or the store did not answer (in time). The store throws it. */
export class StoreUnavailable extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'StoreUnavailable';
  }
}

/** Writers kept colliding on a product's index until the attempts ran out. */
export class TooManyConflicts extends Error {
  constructor() {
    super("the product's reviews changed concurrently too many times");
    this.name = 'TooManyConflicts';
  }
}

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
const ATTEMPTS = 8; // read-modify-write attempts before TooManyConflicts

export class Reviews {
  /**
   * @param {Store} store
   * @param {{now?: () => Date, maxBackoffMs?: number}} [opts]
   */
  constructor(store, { now = () => new Date(), maxBackoffMs = 20 } = {}) {
    this.store = store;
    this.now = now;
    this.maxBackoffMs = maxBackoffMs;
  }

  /**
   * A page of a product's reviews, newest first (by first writing: a
   * rewrite keeps its place). after/offset come from the
   * previous page's cursor: the last user shown and the position after it.
   */
  async list(productId, { limit = DEFAULT_LIMIT, after = null, offset = 0 } = {}) {
    requireIds({ productId });
    const found = await this.store.index(productId);
    const index = found ? found.value : emptyIndex();
    const start = Math.min(resume(index.users, after, offset), index.users.length);
    const page = index.users.slice(start, start + limit);
    const items = page.length > 0 ? await this.store.reviews(productId, page) : [];
    const end = start + page.length;
    const next = end < index.users.length ? { after: page[page.length - 1], offset: end } : null;
    return { items, count: index.count, average: average(index), next };
  }

  /**
   * Writes the caller's review of productId, replacing theirs if any.
   * Answers {review, created}. Throws NotEligible, Invalid, TooManyConflicts.
   */
  async write(productId, who, content) {
    requireIds({ productId, userId: who.userId });
    // Validate before any store call: a bad body costs nothing.
    const now = this.now();
    newReview({ productId, userId: who.userId, email: who.email, content, previous: null, now });
    if (!(await this.store.received(who.userId, productId))) throw new NotEligible();

    let baseline; // the review as first read: what the index counted before this request
    let written = null; // what this request committed (or may have half-committed)
    return this.#retry(async (attempt) => {
      const [current, index] = await Promise.all([
        this.store.review(productId, who.userId),
        this.store.indexForUpdate(productId),
      ]);
      if (attempt === 0) baseline = current ? current.value : null;
      const ownEarlierWrite = written !== null && current !== null && isSame(current.value, written);
      const previous = ownEarlierWrite ? baseline : current ? current.value : null;
      const review = newReview({ productId, userId: who.userId, email: who.email, content, previous, now });
      if (previous && !ownEarlierWrite && sameContent(previous, review) && index.value.users.includes(who.userId)) {
        return { review: previous, created: false }; // nothing to change: PUT is idempotent
      }
      const next = indexWithReview(index.value, who.userId, review.rating, previous ? previous.rating : null);
      written = review;
      await this.store.commit(productId, who.userId, {
        review: { value: review, etag: current ? current.etag : null },
        index: { value: next, etag: index.etag },
      });
      return { review, created: baseline === null };
    });
  }

  /** Removes the caller's review of productId; no review is no error. */
  async remove(productId, who) {
    requireIds({ productId, userId: who.userId });
    let baseline;
    return this.#retry(async (attempt) => {
      const [current, found] = await Promise.all([
        this.store.review(productId, who.userId),
        this.store.index(productId),
      ]);
      if (attempt === 0) baseline = current ? current.value : null;
      const listed = found !== null && found.value.users.includes(who.userId);
      if (current === null && !listed) return;
      // Gone while still listed: an earlier attempt's half-applied delete
      // (stores without rollback); baseline, the first attempt's read, is
      // what the index counted (null if that attempt found none either).
      const counted = current ? current.value : baseline;
      const index = found ?? (await this.store.indexForUpdate(productId));
      await this.store.commit(productId, who.userId, {
        review: { value: null, etag: current ? current.etag : null },
        index: { value: indexWithoutReview(index.value, who.userId, counted ? counted.rating : null), etag: index.etag },
      });
    });
  }

  /**
   * Records that userId received every product of a shipped order.
   * Idempotent: a redelivered event writes the same records again.
   */
  async recordShipment({ orderId, userId, productIds }) {
    requireIds({ userId, ...Object.fromEntries(productIds.map((id, i) => [`lines[${i}].productId`, id])) });
    const unique = [...new Set(productIds)];
    if (unique.length === 0) return;
    await this.store.markReceived(userId, unique, orderId);
  }

  // Runs one read-modify-write attempt until it commits without an ETag
  // conflict, pausing a jittered moment between attempts so colliding
  // writers spread out.
  async #retry(attemptOnce) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await attemptOnce(attempt);
      } catch (err) {
        if (!(err instanceof StoreConflict)) throw err;
        if (attempt + 1 >= ATTEMPTS) throw new TooManyConflicts();
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * this.maxBackoffMs));
    }
  }
}

// Where the next page starts. Reviews keep their place when rewritten and
// new ones enter at the front, so "right after the last user shown" stays
// exact while others write; only if that user's review was removed does the
// page start at its old offset less one (approximate if others came too).
function resume(users, after, offset) {
  if (after === null) return offset;
  const at = users.indexOf(after);
  return at >= 0 ? at + 1 : Math.max(offset - 1, 0);
}

function isSame(a, b) {
  return a.updatedAt.getTime() === b.updatedAt.getTime() && sameContent(a, b);
}

function requireIds(ids) {
  const errs = Object.entries(ids)
    .filter(([, v]) => !isId(v))
    .map(([field]) => ({ field, message: ID_RULE }));
  if (errs.length > 0) throw new Invalid(errs);
}
