// The gateway's public API (contracts/openapi/gateway.yaml), the session
// (tokens in sessionStorage) and the one refresh on a 401.

const SESSION_KEY = 'daprshop.session';

/** An error answer: a problem+json document (RFC 9457) or a network failure. */
class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `The request failed (${status}).`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    this.fieldErrors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

// --- session ---------------------------------------------------------------

/** The session the login answered: {accessToken, refreshToken, expiresAt, user, ...} or null. */
function getSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY)) || null;
  } catch {
    return null;
  }
}

function setSession(session) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  window.dispatchEvent(new CustomEvent('session-change'));
}

function clearSession() {
  const had = sessionStorage.getItem(SESSION_KEY) !== null;
  sessionStorage.removeItem(SESSION_KEY);
  if (had) window.dispatchEvent(new CustomEvent('session-change'));
}

/** The signed-in user ({id, email, name, role}) or null. */
export function currentUser() {
  return getSession()?.user || null;
}

export function isAdmin() {
  return currentUser()?.role === 'admin';
}

// --- transport -------------------------------------------------------------

async function readProblem(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: keep the status line
  }
  if (body && typeof body === 'object' && (body.title || body.detail)) return body;
  const detail = res.status === 429 ? 'Too many requests: wait a moment and try again.'
    : res.status >= 500 ? 'The shop could not answer. Try again in a moment.'
      : `The request failed (${res.status}${res.statusText ? ` ${res.statusText}` : ''}).`;
  return { type: 'about:blank', title: res.statusText || 'Error', status: res.status, detail };
}

let refreshing = null;

/** Trades the refresh token for a new pair, once at a time; false if the session has ended. */
async function refresh() {
  const session = getSession();
  if (!session?.refreshToken) return false;
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const res = await fetch('/api/users/refresh', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json, application/problem+json' },
          body: JSON.stringify({ refreshToken: session.refreshToken }),
        });
        if (!res.ok) {
          clearSession();
          return false;
        }
        setSession(await res.json());
        return true;
      } catch {
        return false;
      }
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

/**
 * Calls the API; answers {data, status, headers}. auth sends the bearer
 * token and, on a 401, refreshes the session once and tries again.
 * Errors throw ApiError (status 0 for a network failure).
 */
async function apiResponse(path, { method = 'GET', body, headers = {}, auth = false, signal } = {}) {
  const send = async () => {
    const h = { Accept: 'application/json, application/problem+json', ...headers };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const session = getSession();
    if (auth && session) h.Authorization = `Bearer ${session.accessToken}`;
    try {
      return await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new ApiError(0, { title: 'Network error', status: 0, detail: 'The shop cannot be reached. Check the connection and try again.' });
    }
  };
  let res = await send();
  if (res.status === 401 && auth && getSession()) {
    if (await refresh()) {
      res = await send();
    } else {
      clearSession();
      throw new ApiError(401, { title: 'Unauthorized', status: 401, detail: 'Your session has ended: please log in again.' });
    }
  }
  if (!res.ok) throw new ApiError(res.status, await readProblem(res));
  let data = null;
  if (res.status !== 204 && res.status !== 304) {
    const text = await res.text();
    data = text ? JSON.parse(text) : null;
  }
  return { data, status: res.status, headers: res.headers };
}

/** Calls the API and answers the body. */
async function api(path, options) {
  return (await apiResponse(path, options)).data;
}

const seg = encodeURIComponent;

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// --- users -----------------------------------------------------------------

export function register({ email, name, password }) {
  return api('/api/users/register', { method: 'POST', body: { email, name, password } });
}

export async function login({ email, password }) {
  const session = await api('/api/users/login', { method: 'POST', body: { email, password } });
  setSession(session);
  return session;
}

export async function logout() {
  try {
    if (getSession()) await api('/api/users/logout', { method: 'POST', auth: true });
  } finally {
    clearSession();
  }
}

// --- catalog ---------------------------------------------------------------

/** params: q, category, currency, minPrice, maxPrice (minor units), inStock, sort, limit, cursor. */
export function listProducts(params, signal) {
  return api(`/api/products${query(params)}`, { signal });
}

export function getProduct(id, signal) {
  return api(`/api/products/${seg(id)}`, { signal });
}

export function createProduct(body) {
  return api('/api/products', { method: 'POST', body, auth: true });
}

export function updateProduct(id, body) {
  return api(`/api/products/${seg(id)}`, { method: 'PUT', body, auth: true });
}

export function deleteProduct(id) {
  return api(`/api/products/${seg(id)}`, { method: 'DELETE', auth: true });
}

// --- reviews ---------------------------------------------------------------

/** {items: [{productId, userId, author, rating, title, body, createdAt, updatedAt}], total, average (null without reviews), nextCursor?} */
export function listReviews(productId, { limit = 10, cursor } = {}, signal) {
  return api(`/api/products/${seg(productId)}/reviews${query({ limit, cursor })}`, { signal });
}

export function putMyReview(productId, { rating, title, body }) {
  return apiResponse(`/api/products/${seg(productId)}/reviews/mine`, { method: 'PUT', body: { rating, title, body }, auth: true });
}

export function deleteMyReview(productId) {
  return api(`/api/products/${seg(productId)}/reviews/mine`, { method: 'DELETE', auth: true });
}

// --- orders ----------------------------------------------------------------

/** Places an order; the same key within a day answers the same order (200, Idempotent-Replayed). */
export function placeOrder({ lines, paymentMethod }, idempotencyKey) {
  return apiResponse('/api/orders', {
    method: 'POST',
    body: { lines, paymentMethod },
    headers: { 'Idempotency-Key': idempotencyKey },
    auth: true,
  });
}

export function ordersOf(userId, { limit = 20, cursor } = {}, signal) {
  return api(`/api/orders/user/${seg(userId)}${query({ limit, cursor })}`, { auth: true, signal });
}

export function getOrder(id, signal) {
  return api(`/api/orders/${seg(id)}`, { auth: true, signal });
}

export function cancelOrder(id) {
  return api(`/api/orders/${seg(id)}/cancel`, { method: 'POST', auth: true });
}

export function setOrderStatus(id, status) {
  return api(`/api/orders/${seg(id)}/status`, { method: 'PUT', body: { status }, auth: true });
}

// --- admin -----------------------------------------------------------------

export function getPayment(id) {
  return api(`/api/payments/${seg(id)}`, { auth: true });
}

export function deadLetters(signal) {
  return api('/api/admin/deadletters', { auth: true, signal });
}

export function replayDeadLetter(id) {
  return api(`/api/admin/deadletters/${seg(id)}/replay`, { method: 'POST', auth: true });
}
