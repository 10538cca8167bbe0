// The activity log: who did what to which object, from where, with before/after where that is cheap.
import type { FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { TSchema } from 'typebox';
import type { Executor } from '../db/tables.ts';
import { accountNames } from '../identity/accounts.ts';

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
  /** The request line, when the change came from one. */
  method?: string;
  path?: string;
}

const MAX_PATH = 300;

/** Any request with an id and a client address (a Fastify request, or a typed route's). */
export const originOf = (
  request: Pick<FastifyRequest, 'id' | 'ip'> & Partial<Pick<FastifyRequest, 'method' | 'url'>>,
): RequestOrigin => ({
  requestId: String(request.id),
  ip: request.ip,
  ...(request.method && request.url
    ? { method: request.method, path: (request.url.split('?')[0] ?? '').slice(0, MAX_PATH) }
    : {}),
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
      method: origin.method ?? null,
      path: origin.path ?? null,
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
  /** An action's name (`shop.item.created`) or the start of its request line (`POST`, `POST /api/items`). */
  action?: string;
  /** Only actions whose name starts with this (a module's view: `shop.`). */
  actionPrefix?: string;
  startDate?: Date;
  endDate?: Date;
  skip: number;
  limit: number;
}

export async function listActivity(db: Executor, f: ActivityFilter) {
  let q = db.selectFrom('activity_logs');
  if (f.userId !== undefined) q = q.where('account_id', '=', f.userId);
  const { action, actionPrefix } = f;
  if (action !== undefined) {
    q = q.where((eb) =>
      eb.or([eb('action', '=', action), eb(sql<boolean>`starts_with(method || ' ' || path, ${action})`, '=', true)]),
    );
  }
  if (actionPrefix !== undefined) q = q.where(sql<boolean>`starts_with(action, ${actionPrefix})`);
  if (f.startDate !== undefined) q = q.where('created_at', '>=', f.startDate);
  if (f.endDate !== undefined) q = q.where('created_at', '<=', f.endDate);
  const [rows, total] = await Promise.all([
    q
      .leftJoin(accountNames.as('who'), 'who.id', 'activity_logs.account_id')
      .selectAll('activity_logs')
      .select(['who.name as account_name', 'who.email as account_email'])
      .orderBy('activity_logs.created_at', 'desc')
      .orderBy('activity_logs.id', 'desc')
      .offset(f.skip)
      .limit(f.limit)
      .execute(),
    q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: total.n };
}

export type ActivityRecord = Awaited<ReturnType<typeof listActivity>>['rows'][number];

/**
 * A module's own reading of the activity log (ModuleDefinition.activityLog): who may read it, and how a page is
 * shown to its clients. Readers below the platform level see only the module's own actions.
 */
export interface ActivityLogView {
  /** The module level that may read the log (a platform admin always may, and sees every module's actions). */
  level: number;
  /** The page as the module's clients read it, and its schema (the OpenAPI document and the serializer). */
  page(p: { rows: ActivityRecord[]; total: number; skip: number; limit: number }): unknown;
  schema: TSchema;
}
