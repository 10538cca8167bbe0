// SQL for the photobox module. Every function takes the handle it runs on (the pool or the caller's transaction).
import { type ExpressionBuilder, type Generated, type Selectable, sql } from 'kysely';
import type { Pool } from 'pg';
import type { Executor, Tables, Timestamp } from '../../core/db/tables.ts';

export type TransactionStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'EXPIRED';
export const STATUSES: readonly TransactionStatus[] = ['PENDING', 'COMPLETED', 'FAILED', 'EXPIRED'];

interface PhotoboxLocationsTable {
  ml_id: Generated<number>;
  ml_name: string;
  ml_address: string | null;
  ml_machine_code: string | null;
  ml_is_active: Generated<boolean>;
  ml_created_at: Timestamp;
  ml_updated_at: Timestamp;
}

interface PhotoboxPricesTable {
  mp_id: Generated<number>;
  mp_name: string;
  mp_amount: number;
  mp_quota: number | null;
  mp_is_active: Generated<boolean>;
  mp_created_at: Timestamp;
  mp_updated_at: Timestamp;
}

interface PhotoboxTransactionsTable {
  tr_id: Generated<number>;
  tr_external_id: string;
  tr_location_id: number;
  tr_price_id: number | null;
  tr_account_id: number | null;
  tr_amount: number;
  tr_status: Generated<TransactionStatus>;
  tr_qris_string: string | null;
  tr_qris_url: string | null;
  tr_xendit_id: string | null;
  tr_email: string | null;
  tr_send_invoice: Generated<boolean>;
  tr_expired_at: Timestamp;
  tr_paid_at: Timestamp | null;
  tr_email_sent_at: Timestamp | null;
  tr_photos_expire_at: Timestamp | null;
  tr_created_at: Timestamp;
  tr_updated_at: Timestamp;
}

interface PhotoboxPhotosTable {
  ph_id: Generated<number>;
  ph_transaction_id: number;
  ph_token: string;
  ph_storage_key: string;
  ph_content_type: string;
  ph_size_bytes: number;
  ph_created_at: Timestamp;
  ph_deleted_at: Timestamp | null;
}

interface PhotoboxKiosksTable {
  account_id: number;
  name: string;
  created_by: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

declare module '../../core/db/tables.ts' {
  interface Tables {
    photobox_locations: PhotoboxLocationsTable;
    photobox_prices: PhotoboxPricesTable;
    photobox_transactions: PhotoboxTransactionsTable;
    photobox_photos: PhotoboxPhotosTable;
    photobox_kiosks: PhotoboxKiosksTable;
  }
}

export type Location = Selectable<PhotoboxLocationsTable>;
export type Price = Selectable<PhotoboxPricesTable>;
export type Transaction = Selectable<PhotoboxTransactionsTable>;
export type Photo = Selectable<PhotoboxPhotosTable>;

/** `%term%` for LIKE, with the caller's own % and _ taken literally. */
export const likeTerm = (s: string) =>
  `%${s
    .trim()
    .toLowerCase()
    .replace(/[%_\\]/g, '\\$&')}%`;

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

export const getLocation = (db: Executor, id: number) =>
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

// ---- transactions ---------------------------------------------------------------------------------------------

/**
 * What a polling kiosk needs, by external id: the hottest read of the module (every kiosk, every 3 s), so it names
 * its columns and goes straight to the driver (no query builder) with a statement PostgreSQL prepares once per
 * connection.
 */
export async function pollRow(pool: Pool, externalId: string) {
  const r = await pool.query<
    Pick<
      Selectable<PhotoboxTransactionsTable>,
      'tr_id' | 'tr_external_id' | 'tr_status' | 'tr_paid_at' | 'tr_amount' | 'tr_expired_at'
    >
  >({
    name: 'photobox.poll',
    text: `SELECT tr_id, tr_external_id, tr_status, tr_paid_at, tr_amount, tr_expired_at
           FROM photobox_transactions WHERE tr_external_id = $1`,
    values: [externalId],
  });
  return r.rows[0];
}

export const transactionByExternalId = (db: Executor, externalId: string, lock = false) => {
  let q = db.selectFrom('photobox_transactions').selectAll().where('tr_external_id', '=', externalId);
  if (lock) q = q.forUpdate();
  return q.executeTakeFirst();
};

export interface TransactionFilter {
  search?: string;
  statuses?: TransactionStatus[];
  locationId?: number;
  skip: number;
  limit: number;
}

export async function listTransactions(db: Executor, f: TransactionFilter) {
  let q = db
    .selectFrom('photobox_transactions as t')
    .innerJoin('photobox_locations as l', 'l.ml_id', 't.tr_location_id');
  if (f.search) {
    const term = likeTerm(f.search);
    q = q.where((eb) =>
      eb.or([eb(sql`lower(t.tr_external_id)`, 'like', term), eb(sql`lower(l.ml_name)`, 'like', term)]),
    );
  }
  if (f.statuses && f.statuses.length > 0) q = q.where('t.tr_status', 'in', f.statuses);
  if (f.locationId !== undefined) q = q.where('t.tr_location_id', '=', f.locationId);
  const [rows, total] = await Promise.all([
    q
      .selectAll('t')
      .select(['l.ml_id', 'l.ml_name'])
      .select((eb) =>
        eb
          .selectFrom('photobox_photos as p')
          .select(sql<number>`count(*)::int`.as('n'))
          .whereRef('p.ph_transaction_id', '=', 't.tr_id')
          .where('p.ph_deleted_at', 'is', null)
          .as('photo_count'),
      )
      .orderBy('t.tr_id', 'desc')
      .offset(f.skip)
      .limit(f.limit)
      .execute(),
    q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: total.n };
}

export async function countTransactions(db: Executor, statuses: TransactionStatus[] | undefined): Promise<number> {
  let q = db.selectFrom('photobox_transactions').select(sql<number>`count(*)::int`.as('n'));
  if (statuses && statuses.length > 0) q = q.where('tr_status', 'in', statuses);
  return (await q.executeTakeFirstOrThrow()).n;
}

// ---- photos ---------------------------------------------------------------------------------------------------

export const livePhotos = (db: Executor, transactionId: number) =>
  db
    .selectFrom('photobox_photos')
    .selectAll()
    .where('ph_transaction_id', '=', transactionId)
    .where('ph_deleted_at', 'is', null)
    .orderBy('ph_id')
    .execute();

export async function photoCount(db: Executor, transactionId: number): Promise<number> {
  const row = await db
    .selectFrom('photobox_photos')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('ph_transaction_id', '=', transactionId)
    .executeTakeFirstOrThrow();
  return row.n;
}

export const photoByToken = (db: Executor, token: string) =>
  db
    .selectFrom('photobox_photos as p')
    .innerJoin('photobox_transactions as t', 't.tr_id', 'p.ph_transaction_id')
    .select([
      'p.ph_id',
      'p.ph_storage_key',
      'p.ph_content_type',
      'p.ph_size_bytes',
      'p.ph_deleted_at',
      't.tr_external_id',
      't.tr_photos_expire_at',
    ])
    .where('p.ph_token', '=', token)
    .executeTakeFirst();

/** Photos whose gallery has expired and whose files are still stored, oldest first. */
export const expiredPhotos = (db: Executor, now: Date, limit: number) =>
  db
    .selectFrom('photobox_photos as p')
    .innerJoin('photobox_transactions as t', 't.tr_id', 'p.ph_transaction_id')
    .select(['p.ph_id', 'p.ph_storage_key'])
    .where('t.tr_photos_expire_at', '<=', now)
    .where('p.ph_deleted_at', 'is', null)
    .orderBy('p.ph_id')
    .limit(limit)
    .execute();
