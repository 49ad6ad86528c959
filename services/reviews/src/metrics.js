// The request metrics every Go service exports (services/platform/middleware
// metrics.go), with the same names, labels and buckets, so the Grafana
// dashboard and its queries cover this service too; plus Node's process
// metrics. A registry of the app's own: no global state.

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export class HTTPMetrics {
  constructor() {
    this.registry = new Registry();
    const labelNames = ['method', 'route', 'status'];
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Duration of HTTP requests in seconds.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      labelNames,
      registers: [this.registry],
    });
    this.total = new Counter({
      name: 'http_requests_total',
      help: 'Total number of HTTP requests.',
      labelNames,
      registers: [this.registry],
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * route is fastify's template (/products/:productId/reviews), written as
   * gorilla/mux writes it (/products/{productId}/reviews); a client must
   * not be able to mint label values, so unknown methods are OTHER.
   */
  observe(method, route, status, seconds) {
    const labels = {
      method: METHODS.has(method) ? method : 'OTHER',
      route: route ? route.replace(/:([A-Za-z0-9_]+)/g, '{$1}') : 'unmatched',
      status: String(status),
    };
    this.duration.observe(labels, seconds);
    this.total.inc(labels);
  }

  async text() {
    return this.registry.metrics();
  }

  get contentType() {
    return this.registry.contentType;
  }
}
