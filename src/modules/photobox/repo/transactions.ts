// SQL for transactions. Every function takes the handle it runs on (the pool or the caller's transaction).
import { sql } from 'kysely';
import type { Pool } from 'pg';
import type { Executor } from '../../../core/db/tables.ts';
import { likeTerm, type Transaction, type TransactionStatus } from './tables.ts';

// ---- transactions ---------------------------------------------------------------------------------------------

/**
 * What a polling kiosk needs, by external id: the hottest read of the module (every kiosk, every 3 s), so it names
 * its columns and goes straight to the driver (no query builder) with a statement PostgreSQL prepares once per
 * connection.
 */
export async function pollRow(pool: Pool, externalId: string) {
  const r = await pool.query<
    Pick<Transaction, 'tr_id' | 'tr_external_id' | 'tr_status' | 'tr_paid_at' | 'tr_amount' | 'tr_expired_at'>
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

export interface NewTransaction {
  tr_external_id: string;
  tr_location_id: number;
  tr_price_id: number | null;
  tr_account_id: number;
  tr_amount: number;
  tr_email: string | null;
  tr_send_invoice: boolean;
  tr_expired_at: Date;
}

export const insertTransaction = (db: Executor, v: NewTransaction, now: Date) =>
  db
    .insertInto('photobox_transactions')
    .values({ ...v, tr_created_at: now, tr_updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();

/** What the payments core answered for the transaction's QRIS. */
export const setQr = (
  db: Executor,
  id: number,
  v: { tr_qris_string: string | null; tr_qris_url: string | null; tr_xendit_id: string | null; tr_expired_at?: Date },
  now: Date,
) =>
  db
    .updateTable('photobox_transactions')
    .set({ ...v, tr_updated_at: now })
    .where('tr_id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();

/** A PENDING transaction's outcome; one way only (a transaction no longer PENDING is left as it is). */
export const settlePending = (
  db: Executor,
  id: number,
  v: { tr_status: TransactionStatus; tr_paid_at: Date | null; tr_xendit_id: string | null },
  now: Date,
) =>
  db
    .updateTable('photobox_transactions')
    .set({ ...v, tr_updated_at: now })
    .where('tr_id', '=', id)
    .where('tr_status', '=', 'PENDING')
    .execute();
