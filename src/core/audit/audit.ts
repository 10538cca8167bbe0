// The activity log: who did what to which object, from where, with before/after where that is cheap.
import type { FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Executor } from '../db/tables.ts';

export interface ActivityEntry {
  accountId: number | null;
  action: string;
  objectType?: string;
  objectId?: string | number;
  before?: unknown;
  after?: unknown;
}

export interface RequestOrigin {
  requestId: string | null;
  ip: string | null;
}

/** Any request with an id and a client address (a Fastify request, or a typed route's). */
export const originOf = (request: Pick<FastifyRequest, 'id' | 'ip'>): RequestOrigin => ({
  requestId: String(request.id),
  ip: request.ip,
});

/** Writes one entry through `db`: pass the transaction that makes the change, so both land or neither does. */
export async function recordActivity(
  db: Executor,
  entry: ActivityEntry,
  origin: RequestOrigin,
  at: Date,
): Promise<void> {
  await db
    .insertInto('activity_logs')
    .values({
      account_id: entry.accountId,
      action: entry.action,
      object_type: entry.objectType ?? null,
      object_id: entry.objectId === undefined ? null : String(entry.objectId),
      request_id: origin.requestId,
      ip: origin.ip,
      before: entry.before === undefined ? null : JSON.stringify(entry.before),
      after: entry.after === undefined ? null : JSON.stringify(entry.after),
      created_at: at,
    })
    .execute();
}

/** Who did something, and from where: the account and its request. */
export interface Actor {
  accountId: number;
  origin: RequestOrigin;
}

/**
 * `recordActivity` for a module's own changes: the object type is the action's first two parts
 * (`shop.item.created` → `shop.item`).
 */
export function recordAction(
  db: Executor,
  actor: Actor,
  action: string,
  objectId: number | string,
  at: Date,
  change: { before?: unknown; after?: unknown } = {},
): Promise<void> {
  const objectType = action.split('.').slice(0, 2).join('.');
  return recordActivity(db, { accountId: actor.accountId, action, objectType, objectId, ...change }, actor.origin, at);
}

export interface ActivityFilter {
  userId?: number;
  action?: string;
  startDate?: Date;
  endDate?: Date;
  skip: number;
  limit: number;
}

export async function listActivity(db: Executor, f: ActivityFilter) {
  let q = db.selectFrom('activity_logs');
  if (f.userId !== undefined) q = q.where('account_id', '=', f.userId);
  if (f.action !== undefined) q = q.where('action', '=', f.action);
  if (f.startDate !== undefined) q = q.where('created_at', '>=', f.startDate);
  if (f.endDate !== undefined) q = q.where('created_at', '<=', f.endDate);
  const [rows, total] = await Promise.all([
    q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').offset(f.skip).limit(f.limit).execute(),
    q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: total.n };
}
