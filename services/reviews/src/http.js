// HTTP port: the routes the gateway (through Dapr service invocation) and
// the own sidecar (pub/sub deliveries) call, the request/response shapes,
// and the one mapping from errors to RFC 9457 problem details.

import crypto from 'node:crypto';
import Fastify, { LogController } from 'fastify';

import { Invalid, NotEligible, ID_RULE, isId, contentErrors } from './domain.js';
import { StoreUnavailable, TooManyConflicts, DEFAULT_LIMIT, MAX_LIMIT } from './reviews.js';
import { HTTPMetrics } from './metrics.js';

const PROBLEM_TYPE = 'application/problem+json';
const TYPE_UNAVAILABLE = 'urn:daprshop:problem:unavailable';
const TYPE_NOT_ELIGIBLE = 'urn:daprshop:problem:not-eligible';
const TOKEN_HEADER = 'dapr-api-token';
const CALLER_HEADER = 'dapr-caller-app-id';
const BODY_LIMIT = 16 * 1024;
const EVENT_BODY_LIMIT = 1 << 20; // a CloudEvent may carry a long order

// Probes and scrapes: open without the app token (the kubelet and Prometheus
// call the app directly, not through its sidecar) and not logged (they poll
// every few seconds; their lines would drown the rest).
const PROBE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

const STATUS_TEXT = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A problem detail that is also an error, so handlers can throw one. */
class Problem extends Error {
  constructor(status, detail, { type = 'about:blank', errors } = {}) {
    super(detail);
    this.status = status;
    this.type = type;
    this.detail = detail;
    this.errors = errors;
  }
}

/**
 * The app with its routes.
 * @param {{reviews: import('./reviews.js').Reviews, ready?: () => Promise<void>, appToken?: string,
 *   logger?: object|boolean, serverOptions?: object, metrics?: HTTPMetrics}} deps
 */
export function buildApp({ reviews, ready = async () => {}, appToken = '', logger = false, serverOptions = {}, metrics = new HTTPMetrics() }) {
  const app = Fastify({
    logger,
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: 256 },
    exposeHeadRoutes: false, // the contract lists the methods served; HEAD is not one
    return503OnClosing: true,
    genReqId: requestId,
    // One line per request, written below, as the Go services write it.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    ...serverOptions,
  });

  // Every (method, path) served, for the 405 answer and the contract test.
  const served = [];
  app.decorate('served', served);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) served.push({ method, path: r.url, re: pathPattern(r.url) });
  });

  app.addContentTypeParser('application/cloudevents+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  app.addHook('onRequest', async (req, reply) => {
    reply.header('X-Request-ID', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.observe(req.method, req.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    const path = pathOf(req.url);
    if (PROBE_PATHS.has(path)) return;
    req.log.info({ method: req.method, path, route: req.routeOptions.url ?? 'unmatched',
      status: reply.statusCode, duration: reply.elapsedTime / 1000 }, 'request');
  });
  if (appToken) app.addHook('onRequest', requireAppToken(appToken));

  app.setErrorHandler((err, req, reply) => sendError(req, reply, err));
  app.setNotFoundHandler((req, reply) => {
    const path = pathOf(req.url);
    const allowed = served.filter((r) => r.re.test(path)).map((r) => r.method);
    if (allowed.length > 0) {
      reply.header('Allow', allowed.join(', '));
      return sendProblem(req, reply, new Problem(405, `${req.method} is not allowed on ${path}`));
    }
    return sendProblem(req, reply, new Problem(404, `no route for ${req.method} ${path}`));
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (req, reply) => reply.type(metrics.contentType).send(await metrics.text()));
  app.get('/readyz', async () => {
    try {
      await ready();
    } catch (err) {
      throw new Problem(503, `not ready: ${err.message}`, { type: TYPE_UNAVAILABLE });
    }
    return { status: 'ok' };
  });

  app.get('/products/:productId/reviews', async (req) => {
    const productId = pathId(req.params.productId);
    const page = pageQuery(req.query);
    const out = await reviews.list(productId, page);
    const res = { items: out.items.map(toResponse), total: out.count, average: out.average };
    if (out.next) res.nextCursor = encodeCursor(out.next);
    return res;
  });

  app.put('/products/:productId/reviews/mine', async (req, reply) => {
    const who = principal(req, { needEmail: true });
    const productId = pathId(req.params.productId);
    const content = reviewInput(req.body);
    const { review, created } = await reviews.write(productId, who, content);
    reply.code(created ? 201 : 200);
    return toResponse(review);
  });

  app.delete('/products/:productId/reviews/mine', async (req, reply) => {
    const who = principal(req, { needEmail: false });
    await reviews.remove(pathId(req.params.productId), who);
    reply.code(204).send();
  });

  app.post(
    '/events/order.shipped',
    {
      bodyLimit: EVENT_BODY_LIMIT,
      // Deliveries come from this app's own sidecar, which sets no caller
      // ID; a service invocation from another app carries one: refuse it
      // before reading the body, so no app can fake a shipment.
      onRequest: async (req, reply) => {
        if (req.headers[CALLER_HEADER] !== undefined) {
          return sendProblem(req, reply, new Problem(403, 'events are delivered by pub/sub only'));
        }
      },
      // A body that cannot be read (not JSON, too large) can never succeed.
      errorHandler: (err, req, reply) => {
        if (err.statusCode >= 400 && err.statusCode < 500) return deliveryStatus(reply, 'DROP');
        req.log.error({ err }, 'order.shipped delivery failed; asking for redelivery');
        return deliveryStatus(reply, 'RETRY');
      },
    },
    async (req, reply) => {
      const shipment = decodeShipment(req.body);
      if (!shipment) {
        req.log.warn({ eventId: req.body && req.body.id }, 'order.shipped: not a CloudEvent with valid data; DROP');
        return deliveryStatus(reply, 'DROP');
      }
      try {
        await reviews.recordShipment(shipment);
      } catch (err) {
        if (err instanceof Invalid) {
          req.log.warn({ err }, 'order.shipped: invalid IDs; DROP');
          return deliveryStatus(reply, 'DROP');
        }
        // Never lose a shipment: a store failure or anything unforeseen is redelivered.
        req.log.warn({ err }, 'order.shipped: could not record; RETRY');
        return deliveryStatus(reply, 'RETRY');
      }
      return deliveryStatus(reply, 'SUCCESS');
    },
  );

  return app;
}

// --- requests ---------------------------------------------------------------

function requireAppToken(token) {
  // Compare digests: equal length, so timingSafeEqual never throws and the
  // time taken says nothing about the token.
  const want = crypto.createHash('sha256').update(token).digest();
  return async (req, reply) => {
    if (PROBE_PATHS.has(pathOf(req.url))) return;
    // No header hashes as "", which never matches: token is not empty.
    const got = crypto.createHash('sha256').update(String(req.headers[TOKEN_HEADER] ?? '')).digest();
    if (!crypto.timingSafeEqual(got, want)) {
      return sendProblem(req, reply, new Problem(401, 'calls to this service must come through its Dapr sidecar'));
    }
  };
}

/** The caller the gateway identified (it strips these headers from clients). */
function principal(req, { needEmail }) {
  const userId = header(req, 'x-user-id');
  const role = header(req, 'x-user-role');
  const email = header(req, 'x-user-email');
  if (!userId || !role || (needEmail && !email) || !isId(userId)) {
    throw new Problem(401, 'sign in to review products');
  }
  return { userId, role, email };
}

function header(req, name) {
  const v = req.headers[name];
  return typeof v === 'string' ? v : '';
}

function pathId(value) {
  if (!isId(value)) throw new Invalid([{ field: 'productId', message: ID_RULE }]);
  return value;
}

const INPUT_FIELDS = new Set(['rating', 'title', 'body']);

/** The PUT body: {rating, title, body?}, nothing else; body defaults to "". */
function reviewInput(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new Invalid([{ field: '', message: 'must be a JSON object with rating, title and body' }]);
  }
  const errs = Object.keys(body)
    .filter((k) => !INPUT_FIELDS.has(k))
    .map((k) => ({ field: k, message: 'is not a field of a review' }));
  const content = { rating: body.rating, title: body.title, body: body.body === undefined ? '' : body.body };
  errs.push(...contentErrors(content));
  if (errs.length > 0) throw new Invalid(errs);
  return content;
}

function pageQuery(query) {
  const errs = [];
  let limit = DEFAULT_LIMIT;
  if (query.limit !== undefined) {
    limit = typeof query.limit === 'string' && /^[0-9]{1,3}$/.test(query.limit) ? Number(query.limit) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) {
      errs.push({ field: 'limit', message: `must be an integer from 1 to ${MAX_LIMIT}` });
    }
  }
  let cursor = { after: null, offset: 0 };
  if (query.cursor !== undefined) {
    const c = decodeCursor(query.cursor);
    if (c) cursor = c;
    else errs.push({ field: 'cursor', message: "must be a previous page's nextCursor, unchanged" });
  }
  if (errs.length > 0) throw new Invalid(errs);
  return { limit, ...cursor };
}

// A cursor is opaque to clients: base64url of {"a": last user shown, "i": offset}.
function encodeCursor({ after, offset }) {
  return Buffer.from(JSON.stringify({ a: after, i: offset })).toString('base64url');
}

export function decodeCursor(s) {
  if (typeof s !== 'string' || s.length === 0 || s.length > 400 || !/^[A-Za-z0-9_-]+$/.test(s)) return null;
  let c;
  try {
    c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!c || typeof c !== 'object' || !isId(c.a) || !Number.isInteger(c.i) || c.i < 1 || c.i > 1e7) return null;
  return { after: c.a, offset: c.i };
}

/**
 * The order event of an order.shipped CloudEvent as the use case needs it,
 * or null if the body is not a CloudEvent with an id and order.shipped data
 * (contracts/events/order.shipped.schema.json; a hand check of what is read).
 */
export function decodeShipment(ce) {
  if (!ce || typeof ce !== 'object' || Array.isArray(ce) || typeof ce.id !== 'string' || ce.id === '') return null;
  const d = ce.data;
  if (!d || typeof d !== 'object' || Array.isArray(d)) return null;
  for (const f of ['orderId', 'userId', 'email', 'at']) if (typeof d[f] !== 'string') return null;
  if (d.status !== 'shipped' || !d.total || typeof d.total !== 'object') return null;
  if (Number.isNaN(Date.parse(d.at))) return null;
  const lines = d.lines ?? [];
  if (!Array.isArray(lines)) return null;
  for (const l of lines) {
    if (!l || typeof l !== 'object' || typeof l.productId !== 'string' || !Number.isInteger(l.quantity)) return null;
    if (!l.unitPrice || typeof l.unitPrice !== 'object') return null;
  }
  return { orderId: d.orderId, userId: d.userId, productIds: lines.map((l) => l.productId) };
}

// --- responses --------------------------------------------------------------

// The review as the API shows it (gateway.yaml's Review). Same fields as the
// adapter's stored record today, kept apart on purpose: one is the public
// contract, the other the stored format, and each may change without the other.
function toResponse(r) {
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

function deliveryStatus(reply, status) {
  return reply.code(200).type('application/json').send({ status });
}

/** The one mapping from errors to problems. */
function sendError(req, reply, err) {
  if (err instanceof Problem) return sendProblem(req, reply, err);
  if (err instanceof Invalid) {
    return sendProblem(req, reply, new Problem(400, 'the request has invalid fields', { errors: err.fields }));
  }
  if (err instanceof NotEligible) {
    return sendProblem(req, reply, new Problem(403, err.message, { type: TYPE_NOT_ELIGIBLE }));
  }
  if (err instanceof TooManyConflicts) {
    return sendProblem(req, reply, new Problem(409, `${err.message}; retry`));
  }
  if (err instanceof StoreUnavailable) {
    req.log.warn({ err }, 'a dependency did not answer; 503');
    reply.header('Retry-After', '5');
    return sendProblem(
      req,
      reply,
      new Problem(503, 'a store or service this request needs is not answering; retry shortly', { type: TYPE_UNAVAILABLE }),
    );
  }
  // Fastify's own refusals (unreadable body, too large, wrong media type).
  if (Number.isInteger(err.statusCode) && err.statusCode >= 400 && err.statusCode < 500) {
    return sendProblem(req, reply, new Problem(err.statusCode, clientErrorDetail(err)));
  }
  req.log.error({ err }, 'request failed');
  return sendProblem(req, reply, new Problem(500, 'unexpected error; quote the request ID to an operator'));
}

function clientErrorDetail(err) {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `the request body is larger than ${BODY_LIMIT} bytes`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'send the body as application/json';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'the request body is empty';
    default:
      return err.statusCode === 400 ? 'the request body is not valid JSON' : err.message;
  }
}

function sendProblem(req, reply, p) {
  const out = {
    type: p.type,
    title: STATUS_TEXT[p.status] ?? 'Error',
    status: p.status,
    detail: p.detail,
    instance: header(req, 'x-forwarded-prefix') + pathOf(req.url),
    requestId: req.id,
  };
  if (p.errors && p.errors.length > 0) out.errors = p.errors;
  return reply
    .code(p.status)
    .header('Content-Type', PROBLEM_TYPE)
    .header('Cache-Control', 'no-store')
    // A Buffer, so fastify adds no "; charset=utf-8": the media type is
    // exactly the one every Go service sends.
    .send(Buffer.from(JSON.stringify(out)));
}

// --- helpers ----------------------------------------------------------------

// The caller's X-Request-ID when sane (short printable ASCII: safe to log and
// echo), else a new one, as services/platform/requestid does.
function requestId(req) {
  const id = req.headers['x-request-id'];
  if (typeof id === 'string' && /^[\x21-\x7e]{1,128}$/.test(id)) return id;
  return crypto.randomBytes(16).toString('hex');
}

function pathOf(url) {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function pathPattern(route) {
  const re = route.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+');
  return new RegExp(`^${re}$`);
}
