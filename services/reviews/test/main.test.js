// Configuration from the environment and the sidecar readiness check.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import { loadConfig, masked, sidecarReady } from '../src/main.js';
import { startFakeSidecar } from '../testkit/fakesidecar.js';

describe('config', () => {
  it('has defaults for everything', () => {
    assert.deepEqual(loadConfig({}), {
      host: '127.0.0.1',
      port: 8006,
      daprHost: '127.0.0.1',
      daprHttpPort: 3500,
      daprApiToken: '',
      appApiToken: '',
      stateStore: 'reviews-store',
      logLevel: 'info',
    });
  });

  it('lists every bad setting at once and masks secrets when logged', () => {
    assert.throws(() => loadConfig({ APP_PORT: 'x', DAPR_HTTP_PORT: '70000', LOG_LEVEL: 'loud' }), (err) => {
      for (const name of ['APP_PORT', 'DAPR_HTTP_PORT', 'LOG_LEVEL']) assert.match(err.message, new RegExp(name));
      return true;
    });
    const cfg = loadConfig({ DAPR_API_TOKEN: 'a', APP_API_TOKEN: 'b', REVIEWS_STATE_STORE: 'pg-reviews' });
    assert.equal(cfg.stateStore, 'pg-reviews');
    assert.deepEqual([masked(cfg).daprApiToken, masked(cfg).appApiToken], ['***', '***']);
    assert.ok(!JSON.stringify(masked(cfg)).includes('"a"'));
  });
});

describe('readiness', () => {
  it('is ready when the sidecar answers its outbound health check', async () => {
    const sc = await startFakeSidecar();
    try {
      await sidecarReady({ daprHost: '127.0.0.1', daprHttpPort: sc.port })();
      assert.equal(sc.requests.at(-1).path, '/v1.0/healthz/outbound');
    } finally {
      await sc.close();
    }
  });

  it('is not ready when the sidecar is away or slow', async () => {
    const away = sidecarReady({ daprHost: '127.0.0.1', daprHttpPort: 1 });
    await assert.rejects(away(), /unreachable/);
    const server = http.createServer(() => {}); // never answers
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const t0 = Date.now();
      await assert.rejects(sidecarReady({ daprHost: '127.0.0.1', daprHttpPort: server.address().port }, 100)(), /unreachable/);
      assert.ok(Date.now() - t0 < 1000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
