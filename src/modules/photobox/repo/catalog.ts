// SQL for locations and prices. Every function takes the handle it runs on (the pool or the caller's transaction).
import { type ExpressionBuilder, sql } from 'kysely';
import type { Executor, Tables } from '../../../core/db/tables.ts';
import { type Location, likeTerm, type Price } from './tables.ts';

// ---- locations ------------------------------------------------------------------------------------------------

export interface LocationFilter {
  search?: string;
  isActive?: boolean;
  skip: number;
  limit: number;
}

export async function listLocations(db: Executor, f: LocationFilter) {
  let q = db.selectFrom('photobox_locations');
  if (f.search) q = q.where(sql`lower(ml_name)`, 'like', likeTerm(f.search));
  if (f.isActive !== undefined) q = q.where('ml_is_active', '=', f.isActive);
  const [rows, total] = await Promise.all([
    q.selectAll().orderBy('ml_id').offset(f.skip).limit(f.limit).execute(),
    q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: total.n };
}

export const getLocation = (db: Executor, id: number): Promise<Location | undefined> =>
  db.selectFrom('photobox_locations').selectAll().where('ml_id', '=', id).executeTakeFirst();

export interface LocationFields {
  ml_name: string;
  ml_address: string | null;
  ml_machine_code: string | null;
  ml_is_active: boolean;
}

export const insertLocation = (db: Executor, v: LocationFields, now: Date) =>
  db
    .insertInto('photobox_locations')
    .values({ ...v, ml_created_at: now, ml_updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();

export const updateLocation = (db: Executor, id: number, v: Partial<LocationFields>, now: Date) =>
  db
    .updateTable('photobox_locations')
    .set({ ...v, ml_updated_at: now })
    .where('ml_id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();

export const deleteLocation = (db: Executor, id: number) =>
  db.deleteFrom('photobox_locations').where('ml_id', '=', id).execute();

export async function locationHasTransactions(db: Executor, id: number): Promise<boolean> {
  const row = await db
    .selectFrom('photobox_transactions')
    .select('tr_id')
    .where('tr_location_id', '=', id)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

// ---- prices ---------------------------------------------------------------------------------------------------

/** Sessions that use up a price's quota: paid ones, and those still waiting to be paid within their time. */
const usesQuota = (now: Date) => (eb: ExpressionBuilder<Tables, 'photobox_transactions'>) =>
  eb.or([
    eb('photobox_transactions.tr_status', '=', 'COMPLETED'),
    eb.and([
      eb('photobox_transactions.tr_status', '=', 'PENDING'),
      eb('photobox_transactions.tr_expired_at', '>', now),
    ]),
  ]);

export type PriceWithUse = Price & { used: number };

export interface PriceFilter {
  search?: string;
  isActive?: boolean;
  skip: number;
  limit: number;
}

export async function listPrices(db: Executor, f: PriceFilter, now: Date) {
  let q = db.selectFrom('photobox_prices');
  if (f.search) q = q.where(sql`lower(mp_name)`, 'like', likeTerm(f.search));
  if (f.isActive !== undefined) q = q.where('mp_is_active', '=', f.isActive);
  const [rows, total] = await Promise.all([
    q
      .selectAll()
      .select((eb) =>
        eb
          .selectFrom('photobox_transactions')
          .select(sql<number>`count(*)::int`.as('n'))
          .whereRef('photobox_transactions.tr_price_id', '=', 'photobox_prices.mp_id')
          .where(usesQuota(now))
          .as('used'),
      )
      .orderBy('mp_id')
      .offset(f.skip)
      .limit(f.limit)
      .execute(),
    q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: rows as PriceWithUse[], total: total.n };
}

export async function getPrice(db: Executor, id: number, now: Date, lock = false): Promise<PriceWithUse | undefined> {
  // FOR UPDATE cannot sit beside an aggregate subquery, so a locked read takes the row first, then counts.
  let q = db.selectFrom('photobox_prices').selectAll().where('mp_id', '=', id);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) return undefined;
  const used = await db
    .selectFrom('photobox_transactions')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('tr_price_id', '=', id)
    .where((eb) =>
      eb.or([
        eb('tr_status', '=', 'COMPLETED'),
        eb.and([eb('tr_status', '=', 'PENDING'), eb('tr_expired_at', '>', now)]),
      ]),
    )
    .executeTakeFirstOrThrow();
  return { ...row, used: used.n };
}

export interface PriceFields {
  mp_name: string;
  mp_amount: number;
  mp_quota: number | null;
  mp_is_active: boolean;
}

export const insertPrice = (db: Executor, v: PriceFields, now: Date) =>
  db
    .insertInto('photobox_prices')
    .values({ ...v, mp_created_at: now, mp_updated_at: now })
    .returning('mp_id')
    .executeTakeFirstOrThrow();

export const updatePrice = (db: Executor, id: number, v: Partial<PriceFields>, now: Date) =>
  db
    .updateTable('photobox_prices')
    .set({ ...v, mp_updated_at: now })
    .where('mp_id', '=', id)
    .execute();

export const deletePrice = (db: Executor, id: number) =>
  db.deleteFrom('photobox_prices').where('mp_id', '=', id).execute();

export async function priceHasTransactions(db: Executor, id: number): Promise<boolean> {
  const row = await db
    .selectFrom('photobox_transactions')
    .select('tr_id')
    .where('tr_price_id', '=', id)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Whether any location exists (the demo data is seeded only into an empty module). */
export async function hasLocations(db: Executor): Promise<boolean> {
  return (await db.selectFrom('photobox_locations').select('ml_id').limit(1).executeTakeFirst()) !== undefined;
}
