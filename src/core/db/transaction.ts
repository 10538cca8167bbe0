import type { Kysely } from 'kysely';
import type { Tables, Trx } from './tables.ts';

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock detected

export interface TransactionOptions {
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  /** Attempts in all, the first included. */
  attempts?: number;
}

const afterCommitCallbacks = new WeakMap<object, Array<() => void>>();

/**
 * Runs `fn` once the transaction `trx` (one run by `withTransaction`) has committed; never if it rolls back or is
 * retried. For telling other instances about a change only when it can be seen (a notification sent inside the
 * transaction could be read before the commit and cached as the old state).
 */
export function afterCommit(trx: Trx, fn: () => void): void {
  const list = afterCommitCallbacks.get(trx);
  if (list) list.push(fn);
  else afterCommitCallbacks.set(trx, [fn]);
}

/**
 * Runs `fn` in one transaction and commits it; on a serialization failure or deadlock the whole function runs
 * again from the start (so `fn` must only touch the database through `trx`, and do no network calls).
 */
export async function withTransaction<T>(
  db: Kysely<Tables>,
  fn: (trx: Trx) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      let builder = db.transaction();
      if (options.isolation) builder = builder.setIsolationLevel(options.isolation);
      let current: Trx | undefined;
      const result = await builder.execute((trx) => {
        current = trx;
        return fn(trx);
      });
      const callbacks = current && afterCommitCallbacks.get(current);
      if (callbacks) {
        afterCommitCallbacks.delete(current as Trx);
        for (const cb of callbacks) cb();
      }
      return result;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (attempt >= attempts || typeof code !== 'string' || !RETRYABLE.has(code)) throw err;
      const backoff = Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());
      await new Promise((r) => setTimeout(r, backoff));
    }
  }
}
