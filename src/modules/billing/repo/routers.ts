// SQL for Mikrotik routers (mikrotik_servers). Every function takes the handle it runs on. The sealed password is
// read only by `targetRow`, for the code that connects; every other row type leaves it out.
import type { Generated, Selectable } from 'kysely';
import { containsPattern } from '../../../core/db/like.ts';
import type { Executor, Timestamp } from '../../../core/db/tables.ts';

interface BillingRoutersTable {
  id: Generated<number>;
  name: string;
  host_ip: string;
  port: number;
  username: string;
  password_enc: string;
  transport: 'api' | 'rest';
  use_tls: boolean;
  is_active: boolean;
  ros_version: string | null;
  identity: string | null;
  last_connection_status: 'success' | 'failure' | null;
  last_connected_at: Timestamp | null;
  last_checked_at: Timestamp | null;
  last_latency_ms: number | null;
  last_error: string | null;
  offline_notified: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

declare module '../../../core/db/tables.ts' {
  interface Tables {
    billing_routers: BillingRoutersTable;
  }
}

type Row = Selectable<BillingRoutersTable>;
export type RouterRow = Omit<Row, 'password_enc'>;
export type RouterWithSecret = Row;
export type RouterFields = Pick<
  Row,
  'name' | 'host_ip' | 'port' | 'username' | 'password_enc' | 'transport' | 'use_tls' | 'is_active'
>;

const PUBLIC = [
  'id',
  'name',
  'host_ip',
  'port',
  'username',
  'transport',
  'use_tls',
  'is_active',
  'ros_version',
  'identity',
  'last_connection_status',
  'last_connected_at',
  'last_checked_at',
  'last_latency_ms',
  'last_error',
  'offline_notified',
  'created_at',
  'updated_at',
] as const;

export async function listRouters(
  db: Executor,
  f: { search?: string; isActive?: boolean; status?: 'success' | 'failure'; skip: number; limit: number },
): Promise<{ rows: RouterRow[]; total: number }> {
  let q = db.selectFrom('billing_routers');
  if (f.search) {
    const like = containsPattern(f.search);
    q = q.where((eb) => eb.or([eb('name', 'ilike', like), eb('host_ip', 'ilike', like)]));
  }
  if (f.isActive !== undefined) q = q.where('is_active', '=', f.isActive);
  if (f.status) q = q.where('last_connection_status', '=', f.status);
  const [rows, count] = await Promise.all([
    q.select(PUBLIC).orderBy('id').offset(f.skip).limit(f.limit).execute(),
    q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

export async function getRouter(db: Executor, id: number): Promise<RouterRow | undefined> {
  return db.selectFrom('billing_routers').select(PUBLIC).where('id', '=', id).executeTakeFirst();
}

/** The router with its sealed password: only for connecting to it. */
export async function targetRow(db: Executor, id: number): Promise<RouterWithSecret | undefined> {
  return db.selectFrom('billing_routers').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function activeRouters(db: Executor): Promise<RouterWithSecret[]> {
  return db.selectFrom('billing_routers').selectAll().where('is_active', '=', true).orderBy('id').execute();
}

export async function insertRouter(db: Executor, v: RouterFields, now: Date): Promise<RouterRow> {
  return db
    .insertInto('billing_routers')
    .values({ ...v, created_at: now, updated_at: now })
    .returning(PUBLIC)
    .executeTakeFirstOrThrow();
}

export async function updateRouter(db: Executor, id: number, v: Partial<RouterFields>, now: Date): Promise<RouterRow> {
  return db
    .updateTable('billing_routers')
    .set({ ...v, updated_at: now })
    .where('id', '=', id)
    .returning(PUBLIC)
    .executeTakeFirstOrThrow();
}

export async function deleteRouter(db: Executor, id: number): Promise<void> {
  await db
    .updateTable('billing_technical_data')
    .set({ mikrotik_server_id: null })
    .where('mikrotik_server_id', '=', id)
    .execute();
  await db.deleteFrom('billing_routers').where('id', '=', id).execute();
}

/** Records a check's outcome; answers the row as it was before (to see an online → offline change). */
export async function recordCheck(
  db: Executor,
  id: number,
  r:
    | { ok: true; version: string; identity: string; latencyMs: number; at: Date }
    | { ok: false; error: string; at: Date },
): Promise<RouterRow | undefined> {
  const set = r.ok
    ? {
        last_connection_status: 'success' as const,
        ros_version: r.version,
        identity: r.identity,
        last_latency_ms: r.latencyMs,
        last_connected_at: r.at,
        last_checked_at: r.at,
        last_error: null,
        offline_notified: false,
      }
    : { last_connection_status: 'failure' as const, last_checked_at: r.at, last_error: r.error.slice(0, 500) };
  return db.updateTable('billing_routers').set(set).where('id', '=', id).returning(PUBLIC).executeTakeFirst();
}

/** Marks the router's current outage as notified; true only for the first caller (once per outage). */
export async function claimOfflineNotice(db: Executor, id: number): Promise<boolean> {
  const res = await db
    .updateTable('billing_routers')
    .set({ offline_notified: true })
    .where('id', '=', id)
    .where('offline_notified', '=', false)
    .where('last_connection_status', '=', 'failure')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
