// Domain: what a review is, who may write one, and how a product's index of
// reviews changes. Plain objects and Dates only: the HTTP port owns the JSON
// shapes, the state adapter owns the stored records.

const RATING_MIN = 1;
const RATING_MAX = 5;
const TITLE_MAX = 120;
const BODY_MAX = 2000;

// The IDs that travel in paths and keys, as services/platform/pathid checks
// them: no "|" (the key separator), "/" or "%" can ever reach a state key.
const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;
export const ID_RULE = 'must be 1 to 200 letters, digits or . _ : @ -, starting with a letter or digit';

export function isId(v) {
  return typeof v === 'string' && ID.test(v);
}

/** A request that breaks an invariant; fields are [{field, message}]. */
export class Invalid extends Error {
  constructor(fields) {
    super('invalid: ' + fields.map((f) => `${f.field} ${f.message}`).join('; '));
    this.name = 'Invalid';
    this.fields = fields;
  }
}

/** The caller has not received the product, so may not review it. */
export class NotEligible extends Error {
  constructor() {
    super('only buyers who received this product may review it');
    this.name = 'NotEligible';
  }
}

// Characters, not UTF-16 units: an emoji counts once.
const length = (s) => [...s].length;

/**
 * Field errors of a review's content ({rating, title, body}); empty when valid.
 * Exported so the HTTP port can report them together with its own.
 */
export function contentErrors({ rating, title, body }) {
  const errs = [];
  if (!Number.isInteger(rating) || rating < RATING_MIN || rating > RATING_MAX) {
    errs.push({ field: 'rating', message: `must be an integer from ${RATING_MIN} to ${RATING_MAX}` });
  }
  if (typeof title !== 'string' || title.trim() === '' || length(title) > TITLE_MAX) {
    errs.push({ field: 'title', message: `must be 1 to ${TITLE_MAX} characters, not only spaces` });
  }
  if (typeof body !== 'string' || length(body) > BODY_MAX) {
    errs.push({ field: 'body', message: `must be at most ${BODY_MAX} characters` });
  }
  return errs;
}

/**
 * The public name of a reviewer: the part of the email before the "@".
 * The whole address is never shown (it is personal data).
 */
export function authorOf(email) {
  const at = typeof email === 'string' ? email.lastIndexOf('@') : -1;
  const local = at >= 0 ? email.slice(0, at) : '';
  return local === '' ? 'anonymous' : local;
}

/**
 * A review as written now by userId. previous (the review it replaces, or
 * null) keeps its createdAt. Throws Invalid.
 */
export function newReview({ productId, userId, email, content, previous, now }) {
  const errs = [];
  if (!isId(productId)) errs.push({ field: 'productId', message: ID_RULE });
  if (!isId(userId)) errs.push({ field: 'userId', message: ID_RULE });
  errs.push(...contentErrors(content));
  if (errs.length > 0) throw new Invalid(errs);
  return {
    productId,
    userId,
    author: authorOf(email),
    rating: content.rating,
    title: content.title.trim(),
    body: content.body,
    createdAt: previous ? previous.createdAt : now,
    updatedAt: now,
  };
}

/** Whether writing candidate over current would change nothing a reader sees. */
export function sameContent(current, candidate) {
  return (
    current.author === candidate.author &&
    current.rating === candidate.rating &&
    current.title === candidate.title &&
    current.body === candidate.body
  );
}

/** A product's index: its reviewers, newest first, and their ratings' sum. */
export function emptyIndex() {
  return { users: [], count: 0, sum: 0 };
}

export function average(index) {
  if (index.count === 0) return null;
  return Math.round((index.sum / index.count) * 100) / 100;
}

/**
 * The index once userId's review with rating is written: a new reviewer
 * enters at the front, a rewrite keeps its place (so paging cursors stay
 * exact). indexedRating is the rating the index counts for the user now
 * (null if it does not know one). count is always the list's length, so it
 * cannot drift from it.
 */
export function indexWithReview(index, userId, rating, indexedRating) {
  const had = index.users.includes(userId);
  const users = had ? [...index.users] : [userId, ...index.users];
  // A user listed without a known rating (a half-applied earlier write on a
  // store without rollback) counts as unchanged rather than as a guess.
  const delta = had ? rating - (indexedRating ?? rating) : rating;
  return { users, count: users.length, sum: index.sum + delta };
}

/** The index once userId's review (counted with indexedRating) is removed. */
export function indexWithoutReview(index, userId, indexedRating) {
  if (!index.users.includes(userId)) return index;
  const users = index.users.filter((u) => u !== userId);
  const sum = users.length === 0 ? 0 : index.sum - (indexedRating ?? 0);
  return { users, count: users.length, sum };
}
