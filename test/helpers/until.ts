// Waiting in tests: for a condition, never for a guessed number of milliseconds. A fixed pause is only right
// when the pause itself is what the test observes ("nothing happens for 1.5 s while the workers are stopped");
// then it is written `quietPeriod(ms, why)`, so that a reader sees it is meant.
import { sql } from 'kysely';
import type { App } from '../../src/app.ts';

type Truthy<T> = Exclude<T, false | undefined | null | 0 | ''>;

/**
 * Polls `check` until it returns something truthy, and returns that; fails after `timeoutMs` saying what it was
 * waiting for.
 */
export async function until<T>(
  check: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<Truthy<T>> {
  const { timeoutMs = 20_000, intervalMs = 50 } = opts;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Waits until the app's job queue has nothing due left to do: no job waiting to run now and none running. After
 * it, whatever a request set off in the background has happened (or will not happen), so a test can say "and
 * nothing changed" without guessing how long the background needs. Jobs scheduled for later do not count.
 */
export async function jobsSettled(app: App, opts: { timeoutMs?: number } = {}): Promise<void> {
  const { db } = app.loket.database;
  await until(
    async () => {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pgboss.job
        WHERE state = 'active' OR (state IN ('created', 'retry') AND start_after <= now())`.execute(db);
      return rows[0]?.n === 0;
    },
    { timeoutMs: opts.timeoutMs ?? 20_000, intervalMs: 100, what: 'the job queue to settle' },
  );
}

/**
 * A pause that is itself the behaviour under test: the caller asserts afterwards that nothing happened during it.
 * `why` is for the reader (and the stack trace).
 */
export async function quietPeriod(ms: number, _why: string): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits until a concurrent call is held up behind a transaction the test keeps open: on a PostgreSQL server, a
 * session waiting for a lock in this database; on the embedded database (a single connection, which the open
 * transaction holds), a query waiting for that connection.
 */
export async function untilBlocked(app: App, what = 'a concurrent call to wait for the open transaction') {
  const { database } = app.loket;
  if (database.kind === 'embedded') {
    await until(() => database.pool.waitingCount > 0, { what, timeoutMs: 10_000, intervalMs: 10 });
    return;
  }
  await until(
    async () => {
      const { rows } = await database.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      return (rows[0]?.n ?? 0) > 0;
    },
    { what, timeoutMs: 10_000, intervalMs: 10 },
  );
}
