// SQL for technical data (data_teknis): one row per customer. The PPPoE password is stored sealed and never read
// back through these functions' row type.
import { type Generated, type Selectable, sql } from 'kysely';
import { containsPattern } from '../../../core/db/like.ts';
import type { Executor, Timestamp } from '../../../core/db/tables.ts';

interface BillingTechnicalDataTable {
  id: Generated<number>;
  pelanggan_id: number;
  mikrotik_server_id: number | null;
  ip_pelanggan: string | null;
  vlan: number | null;
  id_pelanggan: string | null;
  password_pppoe_enc: string | null;
  profile_pppoe: string | null;
  sn_ont: string | null;
  port_odp: string | null;
  port_olt: string | null;
  olt: string | null;
  olt_custom: string | null;
  pon: string | null;
  otb: string | null;
  odc: string | null;
  odp_id: string | null;
  onu_power: string | number | null;
  speedtest_proof: string | null;
  status: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

declare module '../../../core/db/tables.ts' {
  interface Tables {
    billing_technical_data: BillingTechnicalDataTable;
  }
}

type Row = Selectable<BillingTechnicalDataTable>;
export type Technical = Omit<Row, 'password_pppoe_enc' | 'onu_power'> & {
  onu_power: number | null;
  has_password: boolean;
};
export type TechnicalFields = Omit<Row, 'id' | 'created_at' | 'updated_at' | 'onu_power'> & {
  onu_power: number | null;
};

const technicalOf = ({ password_pppoe_enc, onu_power, ...r }: Row): Technical => ({
  ...r,
  onu_power: onu_power === null ? null : Number(onu_power),
  has_password: password_pppoe_enc !== null,
});

export interface TechnicalFilter {
  search?: string;
  olt?: string;
  profile?: string;
  vlan?: number;
  onuPowerMin?: number;
  onuPowerMax?: number;
  skip: number;
  limit: number;
}

function filtered(db: Executor, f: Omit<TechnicalFilter, 'skip' | 'limit'>) {
  let q = db
    .selectFrom('billing_technical_data as t')
    .innerJoin('billing_customers as c', 'c.id', 't.pelanggan_id')
    .where('c.deleted_at', 'is', null);
  if (f.search) {
    const like = containsPattern(f.search);
    q = q.where((eb) =>
      eb.or([
        eb('c.nama', 'ilike', like),
        eb('t.id_pelanggan', 'ilike', like),
        eb('t.ip_pelanggan', 'ilike', like),
        eb('t.sn_ont', 'ilike', like),
      ]),
    );
  }
  if (f.olt !== undefined) q = q.where('t.olt', '=', f.olt);
  if (f.profile !== undefined) q = q.where('t.profile_pppoe', '=', f.profile);
  if (f.vlan !== undefined) q = q.where('t.vlan', '=', f.vlan);
  if (f.onuPowerMin !== undefined) q = q.where('t.onu_power', '>=', f.onuPowerMin);
  if (f.onuPowerMax !== undefined) q = q.where('t.onu_power', '<=', f.onuPowerMax);
  return q;
}

export async function listTechnical(db: Executor, f: TechnicalFilter): Promise<{ rows: Technical[]; total: number }> {
  const [rows, count] = await Promise.all([
    filtered(db, f).selectAll('t').orderBy('t.id').offset(f.skip).limit(f.limit).execute(),
    filtered(db, f)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map(technicalOf), total: Number(count.n) };
}

export async function getTechnical(db: Executor, id: number): Promise<Technical | undefined> {
  const row = await db
    .selectFrom('billing_technical_data as t')
    .innerJoin('billing_customers as c', 'c.id', 't.pelanggan_id')
    .where('c.deleted_at', 'is', null)
    .selectAll('t')
    .where('t.id', '=', id)
    .executeTakeFirst();
  return row ? technicalOf(row) : undefined;
}

export async function technicalOfCustomer(db: Executor, pelangganId: number): Promise<Technical | undefined> {
  const row = await db
    .selectFrom('billing_technical_data')
    .selectAll()
    .where('pelanggan_id', '=', pelangganId)
    .executeTakeFirst();
  return row ? technicalOf(row) : undefined;
}

/** Whether another row already uses this address on this router (no router counts as one pool). */
export async function addressTaken(
  db: Executor,
  ip: string,
  routerId: number | null,
  exceptId: number | undefined,
): Promise<boolean> {
  let q = db
    .selectFrom('billing_technical_data')
    .select('id')
    .where('ip_pelanggan', '=', ip)
    .where(sql<boolean>`coalesce(mikrotik_server_id, 0) = ${routerId ?? 0}`);
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  return (await q.limit(1).executeTakeFirst()) !== undefined;
}

export async function insertTechnical(db: Executor, v: TechnicalFields, now: Date): Promise<number> {
  const row = await db
    .insertInto('billing_technical_data')
    .values({ ...v, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updateTechnical(db: Executor, id: number, v: Partial<TechnicalFields>, now: Date): Promise<void> {
  await db
    .updateTable('billing_technical_data')
    .set({ ...v, updated_at: now })
    .where('id', '=', id)
    .execute();
}

export async function deleteTechnical(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('billing_technical_data').where('id', '=', id).execute();
}

/** Distinct values of one text column in use (the frontend's choice lists), sorted. */
export async function distinctValues(db: Executor, column: 'olt' | 'profile_pppoe' | 'vlan'): Promise<string[]> {
  const rows = await db
    .selectFrom('billing_technical_data')
    .select(sql<string>`${sql.ref(column)}::text`.as('v'))
    .distinct()
    .where(column, 'is not', null)
    .orderBy('v')
    .execute();
  return rows.map((r) => r.v);
}

/** The technical data row that holds an IP address, other than `exceptId`'s. */
export async function ipHolder(db: Executor, ip: string, exceptId: number | undefined) {
  let q = db.selectFrom('billing_technical_data').select(['id', 'pelanggan_id']).where('ip_pelanggan', '=', ip);
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  return q.orderBy('id').limit(1).executeTakeFirst();
}

/** The lowest and highest ONU power recorded (dBm), 0 when none is. */
export async function onuPowerBounds(db: Executor): Promise<{ min: number; max: number }> {
  const row = await db
    .selectFrom('billing_technical_data')
    .select((eb) => [eb.fn.min('onu_power').as('min'), eb.fn.max('onu_power').as('max')])
    .executeTakeFirstOrThrow();
  return { min: Number(row.min ?? 0), max: Number(row.max ?? 0) };
}
