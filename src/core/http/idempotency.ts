// Idempotency-Key for money-moving requests (CONTRACTS §4): the same key with the same body answers the first
// response again without doing the work twice; the same key with another body is 422; while the first request is
// still running, 409. The key is claimed in its own short transaction; the operation marks it done inside its own
// transaction (`complete`), so a change and its stored answer commit together. A route opts in through the typed
// router (`router.idempotent(…)`, route.ts): its handler gets the claim (undefined without the header) and answers
// `{status, body}`; keys are per account and per scope (the route's name for it).
import { createHash } from 'node:crypto';
import type { Generated, Kysely } from 'kysely';
import type { Executor, Tables, Timestamp } from '../db/tables.ts';
import { AppError } from './errors.ts';

interface IdempotencyKeysTable {
  id: Generated<number>;
  account_id: number;
  scope: string;
  key: string;
  request_hash: string;
  state: Generated<'running' | 'done'>;
  status_code: number | null;
  response: unknown;
  created_at: Timestamp;
}

declare module '../db/tables.ts' {
  interface Tables {
    idempotency_keys: IdempotencyKeysTable;
  }
}

/** A claim older than this whose request never finished (its process died) may be taken over. */
const STALE_MS = 60_000;

export interface StoredResponse {
  status: number;
  body: unknown;
}

export interface Claim {
  id: number;
  /** Marks the key done with its response, on the operation's own transaction. */
  complete(db: Executor, response: StoredResponse): Promise<void>;
}

export const requestHash = (body: unknown) =>
  createHash('sha256')
    .update(JSON.stringify(body ?? null))
    .digest('hex');

export async function runIdempotent(
  db: Kysely<Tables>,
  scope: { accountId: number; name: string; key: string; body: unknown; now: Date },
  operation: (claim: Claim | undefined) => Promise<StoredResponse>,
): Promise<StoredResponse> {
  if (!/^[\x21-\x7e]{1,128}$/.test(scope.key)) {
    throw new AppError('VALIDATION_ERROR', 'Idempotency-Key must be 1-128 visible ASCII characters', {
      details: { 'Idempotency-Key': ['must be 1-128 visible ASCII characters'] },
    });
  }
  const hash = requestHash(scope.body);
  let claimId: number | undefined;
  // A claim is held by the request that wrote its `created_at`: a request whose claim was taken over (it stalled
  // past STALE_MS) can neither complete nor release it, so one key never runs its operation twice.
  const claimedAt = scope.now;
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({
      account_id: scope.accountId,
      scope: scope.name,
      key: scope.key,
      request_hash: hash,
      created_at: scope.now,
    })
    .onConflict((oc) => oc.columns(['account_id', 'scope', 'key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) claimId = inserted.id;
  else {
    const row = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('scope', '=', scope.name)
      .where('key', '=', scope.key)
      .executeTakeFirstOrThrow();
    if (row.request_hash !== hash) {
      throw new AppError('VALIDATION_ERROR', 'Idempotency-Key ini sudah dipakai untuk permintaan lain', {
        details: { 'Idempotency-Key': ['was used with a different request body'] },
      });
    }
    if (row.state === 'done') return { status: row.status_code ?? 200, body: row.response };
    // Still running: either in flight right now (409), or its process died (take it over).
    const taken = await db
      .updateTable('idempotency_keys')
      .set({ created_at: scope.now })
      .where('id', '=', row.id)
      .where('state', '=', 'running')
      .where('created_at', '<', new Date(scope.now.getTime() - STALE_MS))
      .returning('id')
      .executeTakeFirst();
    if (!taken) throw new AppError('CONFLICT', 'Permintaan dengan Idempotency-Key ini masih diproses');
    claimId = taken.id;
  }
  const id = claimId;
  try {
    return await operation({
      id,
      async complete(tx, response) {
        const held = await tx
          .updateTable('idempotency_keys')
          .set({ state: 'done', status_code: response.status, response: JSON.stringify(response.body) })
          .where('id', '=', id)
          .where('state', '=', 'running')
          .where('created_at', '=', claimedAt)
          .returning('id')
          .executeTakeFirst();
        // Thrown inside the operation's transaction: its work rolls back with it.
        if (!held) throw new AppError('CONFLICT', 'Permintaan dengan Idempotency-Key ini masih diproses');
      },
    });
  } catch (err) {
    // Nothing was done (the operation's transaction rolled back): let a retry with the same key run again.
    await db
      .deleteFrom('idempotency_keys')
      .where('id', '=', id)
      .where('state', '=', 'running')
      .where('created_at', '=', claimedAt)
      .execute();
    throw err;
  }
}
