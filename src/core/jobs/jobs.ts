// Durable background work on pg-boss, in the same database as the data. A job is enqueued through the
// caller's database handle, so it exists exactly when the caller's transaction commits. Handlers must be
// idempotent: a worker killed mid-job leaves the job active until it expires, and then it runs again.
import { CompiledQuery, type Kysely } from 'kysely';
import type pg from 'pg';
import { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { Metrics } from '../ops/metrics.ts';

export interface JobContext<T> {
  id: string;
  data: T;
  retryCount: number;
  signal: AbortSignal;
}

export interface JobDefinition<T> {
  name: string;
  handler: (job: JobContext<T>) => Promise<void>;
  /** Retries after the first failure (default 5), exponential backoff from retryDelay seconds. */
  retryLimit?: number;
  retryDelay?: number;
  /** A job still active after this long is considered lost (its worker died) and is retried. */
  expireInSeconds?: number;
  /** Jobs of this queue run at most this many at once per instance (default 2). */
  concurrency?: number;
  /** Cron expression (UTC) for a recurring job of this queue. */
  cron?: string;
}

export interface EnqueueOptions {
  startAfter?: Date | number;
  singletonKey?: string;
  /** Deduplicate: a job with the same key is not created again while one exists. */
  id?: string;
}

// A stored definition's handler is called with whatever data its jobs were enqueued with.
type AnyDefinition = JobDefinition<never>;
/** Any Kysely handle (the database or an open transaction) of any schema: jobs go through raw SQL. */
// biome-ignore lint/suspicious/noExplicitAny: the schema type does not matter to raw SQL, and Kysely is invariant in it
type AnyKysely = Kysely<any>;

export interface Jobs {
  define<T>(def: JobDefinition<T>): void;
  /** Enqueue through `db`: pass the open transaction so the job commits (or rolls back) with it. */
  enqueue<T extends object>(db: AnyKysely, name: string, data: T, options?: EnqueueOptions): Promise<string | null>;
  /** Enqueue many jobs of one queue in one statement through `db` (same transaction rule as `enqueue`). */
  enqueueMany<T extends object>(db: AnyKysely, name: string, data: readonly T[]): Promise<void>;
  start(): Promise<void>;
  stop(timeoutMs: number): Promise<void>;
  /** For /ready: the queue answers. */
  ping(): Promise<void>;
  readonly started: boolean;
  counts(): Promise<{ queue: string; queued: number; active: number; failed: number }[]>;
}

const executorFor = (db: AnyKysely) => ({
  executeSql: async (text: string, values?: unknown[]) => {
    const result = await db.executeQuery(CompiledQuery.raw(text, values ?? []));
    return { rows: result.rows as unknown[] };
  },
});

// pg-boss installs its schema on first start; two instances doing that at once collide on CREATE SCHEMA, so
// instances take turns under a session advisory lock. The embedded database has one process and one
// connection (which the lock would hold), so it needs no lock.
const START_LOCK_KEY = 7_310_519_002;
async function startSerialized(pool: pg.Pool, embedded: boolean, fn: () => Promise<unknown>): Promise<void> {
  if (embedded) {
    await fn();
    return;
  }
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [START_LOCK_KEY]);
    await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [START_LOCK_KEY]).catch(() => {});
    client.release();
  }
}

export function createJobs(deps: {
  pool: pg.Pool;
  embedded: boolean;
  logger: Logger;
  metrics: Metrics;
  pollSeconds: number;
  superviseSeconds: number;
}): Jobs {
  const { pool, logger, metrics } = deps;
  const definitions = new Map<string, AnyDefinition>();
  const boss = new PgBoss({
    db: { executeSql: (text, values) => pool.query(text, values as unknown[]) },
    backend: deps.embedded ? 'pglite' : 'postgres',
    schema: 'pgboss',
    migrate: true,
    supervise: true,
    superviseIntervalSeconds: deps.superviseSeconds,
    // A queue is only supervised (lost jobs found) when its monitor claim is due, so both run on one clock.
    monitorIntervalSeconds: deps.superviseSeconds,
    schedule: true,
  });
  boss.on('error', (err) => logger.error({ err }, 'job queue error'));
  let started = false;

  return {
    get started() {
      return started;
    },
    define(def) {
      if (started) throw new Error(`job ${def.name} defined after the queue started`);
      if (definitions.has(def.name)) throw new Error(`job ${def.name} defined twice`);
      definitions.set(def.name, def);
    },
    async enqueue(db, name, data, options = {}) {
      if (!definitions.has(name)) throw new Error(`job ${name} is not defined`);
      return boss.send(name, data, {
        db: executorFor(db),
        ...(options.startAfter !== undefined ? { startAfter: options.startAfter } : {}),
        ...(options.singletonKey ? { singletonKey: options.singletonKey } : {}),
        ...(options.id ? { id: options.id } : {}),
      });
    },
    async enqueueMany(db, name, data) {
      if (!definitions.has(name)) throw new Error(`job ${name} is not defined`);
      if (data.length === 0) return;
      await boss.insert(
        name,
        data.map((d) => ({ data: d })),
        { db: executorFor(db) },
      );
    },
    async start() {
      if (started) return;
      await startSerialized(pool, deps.embedded, () => boss.start());
      // Creating a queue that exists changes nothing (pg-boss inserts it with ON CONFLICT DO NOTHING) but costs a
      // locked statement each: a start creates only the queues the database does not have yet.
      const names = [...definitions.keys()];
      const existing = new Set(
        names.length > 0 ? (await boss.getQueues(names, { limit: Math.max(1, names.length) })).map((q) => q.name) : [],
      );
      for (const def of definitions.values()) {
        if (!existing.has(def.name))
          await boss.createQueue(def.name, {
            retryLimit: def.retryLimit ?? 5,
            retryDelay: def.retryDelay ?? 2,
            retryBackoff: true,
            retryDelayMax: 600,
            expireInSeconds: def.expireInSeconds ?? 300,
          });
        await boss.work<object>(
          def.name,
          { pollingIntervalSeconds: deps.pollSeconds, batchSize: 1, localConcurrency: def.concurrency ?? 2 },
          async ([job]) => {
            if (!job) return;
            const log = logger.child({ job: def.name, jobId: job.id });
            try {
              // The data is what `enqueue` stored for this queue, the type its definition declared.
              await def.handler({
                id: job.id,
                data: job.data as never,
                retryCount: job.retryCount,
                signal: job.signal,
              });
              metrics.jobs.inc({ queue: def.name, outcome: 'completed' });
            } catch (err) {
              metrics.jobs.inc({ queue: def.name, outcome: 'failed' });
              log.warn({ err, retryCount: job.retryCount }, 'job failed');
              throw err;
            }
          },
        );
        if (def.cron) await boss.schedule(def.name, def.cron, {}, { tz: 'UTC' });
      }
      started = true;
    },
    async stop(timeoutMs) {
      if (!started) return;
      started = false;
      // graceful: stop fetching, wait for running handlers up to the timeout.
      await boss.stop({ graceful: true, timeout: Math.max(timeoutMs, 1000), close: false });
    },
    async ping() {
      await pool.query('SELECT 1 FROM pgboss.version LIMIT 1');
    },
    async counts() {
      const queues = await boss.getQueues([...definitions.keys()]);
      return queues.map((q) => ({
        queue: q.name,
        queued: q.queuedCount,
        active: q.activeCount,
        failed: q.failedCount,
      }));
    },
  };
}
