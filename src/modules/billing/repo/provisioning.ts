// SQL for provisioning and isolation: the desired state of each customer's PPPoE secret (computed from the customer,
// its technical data, package and brand), the version a change records and the version a worker applied, and the
// isolation sweep. Every function takes the handle it runs on.
import { sql } from 'kysely';
import type { Executor, Timestamp } from '../../../core/db/tables.ts';

interface BillingProvisioningTable {
  pelanggan_id: number;
  version: string | number;
  applied_version: string | number;
  reason: string;
  router_id: number | null;
  secret_name: string | null;
  lease_until: Timestamp | null;
  attempts: number;
  last_error: string | null;
  applied_at: Timestamp | null;
  updated_at: Timestamp;
}

declare module '../../../core/db/tables.ts' {
  interface Tables {
    billing_provisioning: BillingProvisioningTable;
  }
}

/** What a router must hold for one customer. `present: false` means: no secret (deleted, stopped, no router). */
export interface Desired {
  pelanggan_id: number;
  nama: string;
  status: string;
  present: boolean;
  router_id: number | null;
  name: string;
  password_enc: string | null;
  profile: string;
  remote_address: string | null;
  version: number;
  applied_version: number;
  /** Why the latest version was recorded (an isolation or a restore also ends the active session). */
  reason: string | null;
  /** Where the secret was last written (to remove it there when the customer moved). */
  applied_router_id: number | null;
  applied_secret_name: string | null;
}

export type ProvisionReason = 'change' | 'isolate' | 'restore' | 'delete' | 'sync' | 'reconcile';

/** Records a change for each customer: a new desired version (created at 1). Answers the customers recorded. */
export async function bumpVersions(db: Executor, ids: readonly number[], reason: ProvisionReason, now: Date) {
  if (ids.length === 0) return;
  await sql`
    INSERT INTO billing_provisioning AS p (pelanggan_id, version, reason, updated_at)
    SELECT id, 1, ${reason}, ${now} FROM unnest(${[...ids]}::int[]) AS u (id)
    ON CONFLICT (pelanggan_id) DO UPDATE SET version = p.version + 1, reason = EXCLUDED.reason,
      updated_at = EXCLUDED.updated_at, attempts = 0`.execute(db);
}

function desiredQuery(db: Executor) {
  return db
    .selectFrom('billing_customers as c')
    .innerJoin('billing_technical_data as t', 't.pelanggan_id', 'c.id')
    .leftJoin('billing_packages as pk', 'pk.id', 'c.paket_layanan_id')
    .leftJoin('billing_brands as b', 'b.id_brand', 'c.id_brand')
    .leftJoin('billing_provisioning as p', 'p.pelanggan_id', 'c.id')
    .select([
      'c.id as pelanggan_id',
      'c.nama',
      'c.status',
      sql<boolean>`(c.deleted_at IS NULL AND c.status <> 'Berhenti' AND t.mikrotik_server_id IS NOT NULL)`.as(
        'present',
      ),
      't.mikrotik_server_id as router_id',
      sql<string>`coalesce(nullif(t.id_pelanggan, ''), c.id::text)`.as('name'),
      't.password_pppoe_enc as password_enc',
      sql<string>`CASE WHEN c.status = 'Isolir' THEN coalesce(b.isolation_profile, 'ISOLIR')
        ELSE coalesce(pk.profile_pppoe, t.profile_pppoe, 'default') END`.as('profile'),
      't.ip_pelanggan as remote_address',
      sql<string>`coalesce(p.version, 0)`.as('version'),
      sql<string>`coalesce(p.applied_version, 0)`.as('applied_version'),
      'p.reason',
      'p.router_id as applied_router_id',
      'p.secret_name as applied_secret_name',
    ]);
}

type DesiredRow = Omit<Desired, 'version' | 'applied_version'> & { version: string; applied_version: string };
const desiredOf = (r: DesiredRow): Desired => ({
  ...r,
  version: Number(r.version),
  applied_version: Number(r.applied_version),
});

export async function desiredOne(db: Executor, pelangganId: number): Promise<Desired | undefined> {
  const row = await desiredQuery(db).where('c.id', '=', pelangganId).executeTakeFirst();
  return row && desiredOf(row as DesiredRow);
}

/** Every live customer whose secret belongs on this router (for reconcile). */
export async function desiredOnRouter(db: Executor, routerId: number): Promise<Desired[]> {
  const rows = await desiredQuery(db)
    .where('t.mikrotik_server_id', '=', routerId)
    .where('c.deleted_at', 'is', null)
    .where('c.status', '<>', 'Berhenti')
    .execute();
  return rows.map((r) => desiredOf(r as DesiredRow));
}

/** Claims the right to apply a customer's state for `ms` (one worker at a time, across instances). */
export async function claimLease(db: Executor, pelangganId: number, now: Date, ms: number): Promise<boolean> {
  const res = await db
    .updateTable('billing_provisioning')
    .set({ lease_until: new Date(now.getTime() + ms) })
    .where('pelanggan_id', '=', pelangganId)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Records that `version` was written (never lowers applied_version) and releases the lease. */
export async function markApplied(
  db: Executor,
  pelangganId: number,
  version: number,
  where: { routerId: number | null; secretName: string | null },
  now: Date,
) {
  await db
    .updateTable('billing_provisioning')
    .set((eb) => ({
      applied_version: sql`greatest(${eb.ref('applied_version')}, ${version})`,
      router_id: where.routerId,
      secret_name: where.secretName,
      lease_until: null,
      last_error: null,
      attempts: 0,
      applied_at: now,
    }))
    .where('pelanggan_id', '=', pelangganId)
    .execute();
}

export async function markFailed(db: Executor, pelangganId: number, error: string) {
  await db
    .updateTable('billing_provisioning')
    .set((eb) => ({ lease_until: null, last_error: error.slice(0, 500), attempts: eb('attempts', '+', 1) }))
    .where('pelanggan_id', '=', pelangganId)
    .execute();
}

export async function provisioningOf(db: Executor, pelangganId: number) {
  return db.selectFrom('billing_provisioning').selectAll().where('pelanggan_id', '=', pelangganId).executeTakeFirst();
}

/**
 * The isolation sweep's candidates, locked: live active customers with an invoice still unpaid past its due date
 * plus the brand's grace days, and no promise to pay running. Locking the invoices first means a payment settling
 * one of them (which locks it too) either commits before (the invoice is Lunas and drops out) or waits for us.
 */
export async function lockIsolationCandidates(db: Executor, today: string): Promise<number[]> {
  const rows = await sql<{ pelanggan_id: number }>`
    SELECT i.pelanggan_id FROM billing_invoices i
    JOIN billing_customers c ON c.id = i.pelanggan_id
    LEFT JOIN billing_brands b ON b.id_brand = c.id_brand
    WHERE i.status_invoice IN ('Jatuh Tempo', 'Menunggu Pembayaran')
      AND i.tanggal_jatuh_tempo + coalesce(b.grace_days, 5)::int < ${today}::date
      AND c.deleted_at IS NULL AND c.status = 'Aktif'
      AND (c.janji_bayar_sampai IS NULL OR c.janji_bayar_sampai < ${today}::date)
    ORDER BY i.id
    FOR UPDATE OF i`.execute(db);
  return [...new Set(rows.rows.map((r) => r.pelanggan_id))];
}

/** Whether a customer still has an invoice unpaid past due and grace (paying one invoice of two restores nothing). */
export async function stillOverdue(db: Executor, pelangganId: number, today: string): Promise<boolean> {
  const row = await sql<{ n: number }>`
    SELECT 1 AS n FROM billing_invoices i
    JOIN billing_customers c ON c.id = i.pelanggan_id
    LEFT JOIN billing_brands b ON b.id_brand = c.id_brand
    WHERE i.pelanggan_id = ${pelangganId} AND i.status_invoice IN ('Jatuh Tempo', 'Menunggu Pembayaran')
      AND i.tanggal_jatuh_tempo + coalesce(b.grace_days, 5)::int < ${today}::date
    LIMIT 1`.execute(db);
  return row.rows.length > 0;
}

/** Sets the status of these customers where it is `from`; answers the ones changed. */
export async function setStatus(
  db: Executor,
  ids: readonly number[],
  from: 'Aktif' | 'Isolir',
  to: 'Aktif' | 'Isolir',
  now: Date,
): Promise<{ id: number; nama: string }[]> {
  if (ids.length === 0) return [];
  return db
    .updateTable('billing_customers')
    .set({ status: to, updated_at: now })
    .where('id', 'in', [...ids])
    .where('status', '=', from)
    .where('deleted_at', 'is', null)
    .returning(['id', 'nama'])
    .execute();
}

export async function setPromise(db: Executor, pelangganId: number, until: string | null, now: Date) {
  await sql`UPDATE billing_customers SET janji_bayar_sampai = ${until}::date, updated_at = ${now}
    WHERE id = ${pelangganId}`.execute(db);
}

export async function promiseOf(db: Executor, pelangganId: number): Promise<string | null> {
  const r = await sql<{ d: string | null }>`SELECT to_char(janji_bayar_sampai, 'YYYY-MM-DD') AS d
    FROM billing_customers WHERE id = ${pelangganId}`.execute(db);
  return r.rows[0]?.d ?? null;
}

/** Customers whose desired version is not yet applied (for the catch-up sweep). */
export async function pendingIds(db: Executor, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('billing_provisioning')
    .select('pelanggan_id')
    .whereRef('applied_version', '<', 'version')
    .limit(limit)
    .execute();
  return rows.map((r) => r.pelanggan_id);
}

// ---- many customers at once (the isolation sweep's batches) -------------------------------------------------------

/** Claims the leases of those of `ids` no other worker holds; answers the ones claimed. */
export async function claimLeases(db: Executor, ids: readonly number[], now: Date, ms: number): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('billing_provisioning')
    .set({ lease_until: new Date(now.getTime() + ms) })
    .where('pelanggan_id', 'in', [...ids])
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .returning('pelanggan_id')
    .execute();
  return rows.map((r) => r.pelanggan_id);
}

export async function desiredMany(db: Executor, ids: readonly number[]): Promise<Desired[]> {
  if (ids.length === 0) return [];
  const rows = await desiredQuery(db)
    .where('c.id', 'in', [...ids])
    .execute();
  return rows.map((r) => desiredOf(r as DesiredRow));
}

/** `markApplied` for many customers in one statement: each its own version and place, leases released. */
export async function markAppliedMany(
  db: Executor,
  done: readonly { pelangganId: number; version: number; routerId: number | null; secretName: string | null }[],
  now: Date,
) {
  if (done.length === 0) return;
  await sql`
    UPDATE billing_provisioning p
       SET applied_version = greatest(p.applied_version, u.version), router_id = u.router_id,
           secret_name = u.secret_name, lease_until = NULL, last_error = NULL, attempts = 0, applied_at = ${now}
      FROM unnest(${done.map((d) => d.pelangganId)}::int[], ${done.map((d) => d.version)}::bigint[],
                  ${done.map((d) => d.routerId)}::int[], ${done.map((d) => d.secretName)}::text[])
           AS u (pelanggan_id, version, router_id, secret_name)
     WHERE p.pelanggan_id = u.pelanggan_id`.execute(db);
}

/** `markFailed` for many customers (the same error), leases released. */
export async function markFailedMany(db: Executor, ids: readonly number[], error: string) {
  if (ids.length === 0) return;
  await db
    .updateTable('billing_provisioning')
    .set((eb) => ({ lease_until: null, last_error: error.slice(0, 500), attempts: eb('attempts', '+', 1) }))
    .where('pelanggan_id', 'in', [...ids])
    .execute();
}

/** Releases leases without recording anything (customers left to the one-by-one path). */
export async function releaseLeases(db: Executor, ids: readonly number[]) {
  if (ids.length === 0) return;
  await db
    .updateTable('billing_provisioning')
    .set({ lease_until: null })
    .where('pelanggan_id', 'in', [...ids])
    .execute();
}
