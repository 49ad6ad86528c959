// The reviews service: configuration from the environment, the wiring of
// store, use cases and HTTP port, and a server with timeouts and a graceful
// shutdown. Nothing else starts anything.

import { pathToFileURL } from 'node:url';

import { buildApp } from './http.js';
import { Reviews } from './reviews.js';
import { DaprStateStore, newDaprClient } from './adapters/daprstate.js';

const LEVELS = ['debug', 'info', 'warn', 'error'];
const SHUTDOWN_GRACE_MS = 15_000;

/** Config from env; throws with every problem listed. */
export function loadConfig(env = process.env) {
  const errs = [];
  const port = (name, def) => {
    const raw = env[name] ?? String(def);
    const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= 0 && n <= 65535)) errs.push(`${name}=${raw}: not a port`);
    return n;
  };
  const cfg = {
    host: env.APP_LISTEN_ADDRESS || '127.0.0.1', // as the Go services (platform/bootstrap)
    port: port('APP_PORT', 8006),
    daprHost: env.DAPR_HOST || '127.0.0.1',
    daprHttpPort: port('DAPR_HTTP_PORT', 3500),
    daprApiToken: env.DAPR_API_TOKEN || '',
    appApiToken: env.APP_API_TOKEN || '',
    stateStore: env.REVIEWS_STATE_STORE || 'reviews-store',
    logLevel: env.LOG_LEVEL || 'info',
  };
  if (!LEVELS.includes(cfg.logLevel)) errs.push(`LOG_LEVEL=${cfg.logLevel}: want one of ${LEVELS.join(', ')}`);
  if (errs.length > 0) throw new Error(`configuration: ${errs.join('; ')}`);
  return cfg;
}

/** cfg with secrets masked, for the start-up log line. */
export function masked(cfg) {
  const mask = (s) => (s ? '***' : '');
  return { ...cfg, daprApiToken: mask(cfg.daprApiToken), appApiToken: mask(cfg.appApiToken) };
}

/**
 * Readiness: the sidecar's outbound API answers (its plain /v1.0/healthz
 * waits for this app to be healthy, which would be circular).
 */
export function sidecarReady({ daprHost, daprHttpPort, daprApiToken }, timeoutMs = 1000) {
  const url = `http://${daprHost}:${daprHttpPort}/v1.0/healthz/outbound`;
  return async () => {
    let res;
    try {
      res = await fetch(url, {
        headers: daprApiToken ? { 'dapr-api-token': daprApiToken } : {},
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new Error(`dapr sidecar unreachable: ${err.message}`);
    }
    await res.body?.cancel();
    if (res.status < 200 || res.status > 299) throw new Error(`dapr sidecar not ready: ${res.status}`);
  };
}

function loggerOptions(level) {
  return {
    level,
    base: { service: 'reviews' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
  };
}

export async function run(env = process.env) {
  const cfg = loadConfig(env);
  let app;
  const dapr = newDaprClient({
    host: cfg.daprHost,
    httpPort: cfg.daprHttpPort,
    apiToken: cfg.daprApiToken,
    getLog: () => app && app.log,
  });
  const reviews = new Reviews(new DaprStateStore(dapr, cfg.stateStore));
  app = buildApp({
    reviews,
    ready: sidecarReady(cfg),
    appToken: cfg.appApiToken,
    logger: loggerOptions(cfg.logLevel),
    // Timeouts as services/platform/httpserver sets them: a slow or idle
    // client cannot hold a connection forever.
    serverOptions: { requestTimeout: 15_000, connectionTimeout: 30_000, keepAliveTimeout: 120_000 },
  });
  app.server.headersTimeout = 5_000;
  app.log.info({ config: masked(cfg) }, 'starting');

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, `stopping; in-flight requests have ${SHUTDOWN_GRACE_MS / 1000} s`);
    const force = setTimeout(() => {
      app.log.error('in-flight requests outlasted the grace period; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    let code = 0;
    try {
      await app.close();
      await dapr.stop();
      app.log.info('stopped');
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      code = 1;
    }
    // Exit now rather than when the event loop drains: the SDK may still be
    // polling for a sidecar that never came up (it waits up to a minute).
    process.exit(code);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  await app.listen({ host: cfg.host, port: cfg.port });
  return app;
}

// Only when run as a program (node src/main.js), not when a test imports it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().catch((err) => {
    console.error(JSON.stringify({ level: 'error', service: 'reviews', msg: err.message }));
    process.exit(1);
  });
}
