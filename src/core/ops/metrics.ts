import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  jobs: Counter<'queue' | 'outcome'>;
  /** Items per batch a batcher (src/core/batcher.ts) ran together, by batcher name. */
  batchSize: Histogram<'name'>;
  /** Batches that failed as a whole and ran their items one by one. */
  batchFallbacks: Counter<'name'>;
  /** Lookups in a cache kept in step by the bus, by cache and result (hit, miss). */
  cacheLookups: Counter<'cache' | 'result'>;
}

/** One registry per app instance (tests build several apps in one process). */
export function createMetrics(pool: () => pg.Pool | undefined): Metrics {
  const registry = new Registry();
  const httpRequests = new Counter({
    name: 'loket_http_requests_total',
    help: 'HTTP requests by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'loket_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const jobs = new Counter({
    name: 'loket_jobs_total',
    help: 'Background jobs finished, by queue and outcome (completed, failed)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'loket_batch_size',
    help: 'Work items run together in one batch (one statement and commit), by batcher',
    labelNames: ['name'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [registry],
  });
  const batchFallbacks = new Counter({
    name: 'loket_batch_fallbacks_total',
    help: 'Batches that failed as a whole, whose items then ran one by one, by batcher',
    labelNames: ['name'] as const,
    registers: [registry],
  });
  const cacheLookups = new Counter({
    name: 'loket_cache_lookups_total',
    help: 'Lookups in an in-memory cache kept in step by the bus, by cache and result (hit, miss)',
    labelNames: ['cache', 'result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'loket_db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const p = pool();
      if (!p) return;
      this.set({ state: 'total' }, p.totalCount);
      this.set({ state: 'idle' }, p.idleCount);
      this.set({ state: 'waiting' }, p.waitingCount);
    },
  });
  return { registry, httpRequests, httpDuration, jobs, batchSize, batchFallbacks, cacheLookups };
}
