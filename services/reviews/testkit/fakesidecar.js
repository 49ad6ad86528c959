// A stand-in for daprd's HTTP state API (the parts the adapter calls), so
// the Dapr adapter is tested offline: bulk get with ETags, save and
// transactions with first-write ETag checks (all or nothing), the API token,
// and a mode that never answers. Errors are shaped as daprd 1.18 sends them.

import http from 'node:http';

export async function startFakeSidecar({ token = '' } = {}) {
  const store = 'reviews-store';
  const data = new Map(); // key -> {json, etag}
  let version = 0;
  const sc = { data, requests: [], hang: false, down: false };

  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const url = new URL(req.url, 'http://x');
    const b = body ? JSON.parse(body) : null;
    sc.requests.push({ method: req.method, path: url.pathname, headers: req.headers, body: b });
    if (sc.hang) return; // never answers
    const send = (status, v) => {
      res.writeHead(status, v === undefined ? {} : { 'content-type': 'application/json' });
      res.end(v === undefined ? undefined : JSON.stringify(v));
    };
    // Open, as daprd serves them: the SDK polls metadata before its first
    // call; healthz/outbound is main.js's readiness check.
    if (url.pathname === '/v1.0/metadata') return send(200, { id: 'reviews' });
    if (url.pathname === '/v1.0/healthz/outbound') return send(204);
    if (token && req.headers['dapr-api-token'] !== token) {
      return send(401, { errorCode: 'ERR_API_TOKEN', message: 'invalid api token' });
    }
    if (sc.down) return send(500, { errorCode: 'ERR_STATE_GET', message: 'redis: connection refused' });
    const base = `/v1.0/state/${store}`;

    if (req.method === 'POST' && url.pathname === `${base}/bulk`) {
      return send(
        200,
        b.keys.map((key) => {
          const e = data.get(key);
          return e ? { key, data: JSON.parse(e.json), etag: e.etag } : { key };
        }),
      );
    }
    if (req.method === 'POST' && url.pathname === base) {
      // Save: first-write without ETag inserts only (as Redis does for a key it marked first-write).
      for (const item of b) {
        const e = data.get(item.key);
        const fw = item.options && item.options.concurrency === 'first-write';
        if (fw && (item.etag ? !e || e.etag !== item.etag : e)) {
          return send(item.etag ? 409 : 500, {
            errorCode: 'ERR_STATE_SAVE',
            message: `failed saving state in state store ${store}: failed to set key ${item.key}`,
          });
        }
      }
      for (const item of b) data.set(item.key, { json: JSON.stringify(item.value), etag: String(++version) });
      return send(204);
    }
    if (req.method === 'POST' && url.pathname === `${base}/transaction`) {
      for (const { operation, request: r } of b.operations) {
        const e = data.get(r.key);
        const fw = r.options && r.options.concurrency === 'first-write';
        const mismatch = fw && r.etag ? !e || e.etag !== r.etag : fw && operation === 'upsert' && e;
        if (mismatch) {
          return send(500, {
            errorCode: 'ERR_STATE_TRANSACTION',
            message: 'error while executing state transaction: possible etag mismatch. error from state store: ' + r.key,
          });
        }
      }
      for (const { operation, request: r } of b.operations) {
        if (operation === 'delete') data.delete(r.key);
        else data.set(r.key, { json: JSON.stringify(r.value), etag: String(++version) });
      }
      return send(204);
    }
    return send(404, { errorCode: 'ERR_NOT_FOUND', message: 'no such route' });
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  sc.port = server.address().port;
  sc.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    });
  return sc;
}
