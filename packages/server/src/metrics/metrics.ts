import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one server. A registry per server (not prom-client's global) so several servers can run
 * in one process, as tests do.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'aim_http_requests_total',
    help: 'HTTP requests answered, by route template, method, status and authentication class',
    labelNames: ['method', 'route', 'status', 'auth'] as const,
    registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'aim_http_request_duration_seconds',
    help: 'Time to answer, by route template and authentication class',
    labelNames: ['method', 'route', 'auth'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly decisions = new Counter({
    name: 'aim_verify_action_decisions_total',
    help: 'verify-action outcomes: allowed, denied, or rejected with the reason',
    labelNames: ['decision', 'reason'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'aim_rate_limit_rejections_total',
    help: 'Requests refused with 429, by rate-limit class (jwt, api_key, oauth, public) or login (the login throttle)',
    labelNames: ['class'] as const,
    registers: [this.registry],
  });

  readonly reuseDetections = new Counter({
    name: 'aim_refresh_token_reuse_detections_total',
    help: 'Refresh tokens presented after rotation (each revoked a family)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor(
    poolStats: () => { total: number; idle: number; waiting: number },
    hashingLoad: () => { active: number; queued: number },
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'aim_' });
    new Gauge({
      name: 'aim_db_pool_connections',
      help: 'Database connections by state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      // Sampled at scrape time, so the gauge is never stale.
      collect() {
        const stats = poolStats();
        this.set({ state: 'total' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
    new Gauge({
      name: 'aim_password_hashes',
      help: 'argon2id hashes running and waiting for a slot (AIM_PASSWORD_HASH_CONCURRENCY)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const load = hashingLoad();
        this.set({ state: 'active' }, load.active);
        this.set({ state: 'queued' }, load.queued);
      },
    });
  }
}
