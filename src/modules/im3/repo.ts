// SQL for the IM3 module. Every function takes the handle it runs on (the pool or the caller's transaction).
import type { Generated, Selectable } from 'kysely';
import type { Executor, Timestamp } from '../../core/db/tables.ts';
import { withTransaction } from '../../core/db/transaction.ts';

export const STATUSES = [
  'PENDING',
  'PROCESSING',
  'CHECKING_ELIGIBILITY',
  'WAITING_FOR_ELIGIBILITY',
  'INITIATING_PAYMENT',
  'PAYMENT_INITIATED',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const;
export type Im3Status = (typeof STATUSES)[number];
export const FINAL: readonly Im3Status[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

interface Im3PackagesTable {
  id: Generated<number>;
  pvr_code: string;
  keyword: string;
  discount_price: number;
  normal_price: number;
  package_name: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

interface Im3SessionsTable {
  account_id: number;
  phone: string;
  challenge_sealed: string | null;
  session_sealed: string | null;
  verified_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

interface Im3TransactionsTable {
  id: Generated<number>;
  account_id: number;
  package_id: number;
  task_id: string;
  phone: string;
  amount: number;
  status: Generated<Im3Status>;
  eligibility_ref: string | null;
  eligibility_polls: Generated<number>;
  payment_ref: string | null;
  qr_payload: string | null;
  qr_code: string | null;
  payment_deadline: Timestamp | null;
  error_message: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

interface Im3TransactionEventsTable {
  id: Generated<number>;
  transaction_id: number;
  status: Im3Status;
  created_at: Timestamp;
}

interface Im3SimPaymentsTable {
  ref: string;
  msisdn: string;
  amount: number;
  paid_at: Timestamp | null;
  created_at: Timestamp;
}

declare module '../../core/db/tables.ts' {
  interface Tables {
    im3_packages: Im3PackagesTable;
    im3_sessions: Im3SessionsTable;
    im3_transactions: Im3TransactionsTable;
    im3_transaction_events: Im3TransactionEventsTable;
    im3_sim_payments: Im3SimPaymentsTable;
  }
}

export type Package = Selectable<Im3PackagesTable>;
export type Transaction = Selectable<Im3TransactionsTable>;
export type Session = Selectable<Im3SessionsTable>;

export interface PackageFields {
  pvr_code: string;
  keyword: string;
  discount_price: number;
  normal_price: number;
  package_name: string;
}

// ---- packages ------------------------------------------------------------------------------------------------

export const listPackages = (db: Executor) => db.selectFrom('im3_packages').selectAll().orderBy('id').execute();

export const findPackage = (db: Executor, id: number) =>
  db.selectFrom('im3_packages').selectAll().where('id', '=', id).executeTakeFirst();

export const insertPackage = (db: Executor, p: PackageFields, at: Date) =>
  db
    .insertInto('im3_packages')
    .values({ ...p, created_at: at, updated_at: at })
    .returningAll()
    .executeTakeFirstOrThrow();

export const updatePackage = (db: Executor, id: number, p: Partial<PackageFields>, at: Date) =>
  db
    .updateTable('im3_packages')
    .set({ ...p, updated_at: at })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();

export async function deletePackage(db: Executor, id: number): Promise<boolean> {
  const r = await db.deleteFrom('im3_packages').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function packageInUse(db: Executor, id: number): Promise<boolean> {
  const row = await db
    .selectFrom('im3_transactions')
    .select('id')
    .where('package_id', '=', id)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

// ---- operator sessions ---------------------------------------------------------------------------------------

export const findSession = (db: Executor, accountId: number) =>
  db.selectFrom('im3_sessions').selectAll().where('account_id', '=', accountId).executeTakeFirst();

export async function saveChallenge(db: Executor, accountId: number, phone: string, sealed: string, at: Date) {
  await db
    .insertInto('im3_sessions')
    .values({
      account_id: accountId,
      phone,
      challenge_sealed: sealed,
      session_sealed: null,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) =>
      oc
        .column('account_id')
        .doUpdateSet({ phone, challenge_sealed: sealed, session_sealed: null, verified_at: null, updated_at: at }),
    )
    .execute();
}

/**
 * Stores the operator session won by answering `challenge` for `phone`; false when that challenge is no longer the
 * account's (a new OTP was asked for, or for another number, meanwhile), and nothing is stored.
 */
export async function saveSession(
  db: Executor,
  accountId: number,
  answered: { phone: string; challenge: string },
  sealed: string,
  at: Date,
): Promise<boolean> {
  const r = await db
    .updateTable('im3_sessions')
    .set({ session_sealed: sealed, challenge_sealed: null, verified_at: at, updated_at: at })
    .where('account_id', '=', accountId)
    .where('phone', '=', answered.phone)
    .where('challenge_sealed', '=', answered.challenge)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function dropSession(db: Executor, accountId: number) {
  await db.deleteFrom('im3_sessions').where('account_id', '=', accountId).execute();
}

// ---- transactions --------------------------------------------------------------------------------------------

export const findTransaction = (db: Executor, id: number) =>
  db.selectFrom('im3_transactions').selectAll().where('id', '=', id).executeTakeFirst();

export const findOwnTransaction = (db: Executor, accountId: number, id: number) =>
  db
    .selectFrom('im3_transactions')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', accountId)
    .executeTakeFirst();

export async function listOwnTransactions(db: Executor, accountId: number, offset: number, limit: number) {
  const rows = await db
    .selectFrom('im3_transactions')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('id', 'desc')
    .offset(offset)
    .limit(limit)
    .execute();
  const total = await db
    .selectFrom('im3_transactions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  return { rows, total: Number(total.n) };
}

export async function insertTransaction(
  db: Executor,
  t: { account_id: number; package_id: number; task_id: string; phone: string; amount: number },
  at: Date,
) {
  const row = await db
    .insertInto('im3_transactions')
    .values({ ...t, status: 'PENDING', created_at: at, updated_at: at })
    .returningAll()
    .executeTakeFirstOrThrow();
  await db
    .insertInto('im3_transaction_events')
    .values({ transaction_id: row.id, status: 'PENDING', created_at: at })
    .execute();
  return row;
}

/**
 * Moves a transaction from `from` to `to` (with extra columns), recording the step; nothing when it is no longer
 * in `from` (cancelled meanwhile, or another worker got there first). Returns whether it moved.
 */
export async function transition(
  db: Executor,
  id: number,
  from: Im3Status | readonly Im3Status[],
  to: Im3Status,
  at: Date,
  extra: Partial<Omit<Transaction, 'id' | 'status'>> = {},
): Promise<boolean> {
  // The status and its history entry are written together, so that no reader sees one without the other.
  if (!db.isTransaction) return withTransaction(db, (trx) => transition(trx, id, from, to, at, extra));
  const froms = (Array.isArray(from) ? from : [from]) as Im3Status[];
  const r = await db
    .updateTable('im3_transactions')
    .set({ ...extra, status: to, updated_at: at })
    .where('id', '=', id)
    .where('status', 'in', froms)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return false;
  if (!froms.includes(to)) {
    await db.insertInto('im3_transaction_events').values({ transaction_id: id, status: to, created_at: at }).execute();
  }
  return true;
}

export const statusHistory = (db: Executor, id: number) =>
  db
    .selectFrom('im3_transaction_events')
    .select(['status', 'created_at'])
    .where('transaction_id', '=', id)
    .orderBy('id')
    .execute();

// ---- simulated operator payments -----------------------------------------------------------------------------

export async function insertSimPayment(
  db: Executor,
  p: { ref: string; msisdn: string; amount: number; at: Date },
): Promise<void> {
  await db
    .insertInto('im3_sim_payments')
    .values({ ref: p.ref, msisdn: p.msisdn, amount: p.amount, created_at: p.at })
    .onConflict((oc) => oc.column('ref').doNothing())
    .execute();
}

export const simPayment = (db: Executor, ref: string) =>
  db.selectFrom('im3_sim_payments').select('paid_at').where('ref', '=', ref).executeTakeFirst();

/** Marks the simulated payment `ref` paid (once). */
export async function markSimPaymentPaid(db: Executor, ref: string, at: Date): Promise<void> {
  await db
    .updateTable('im3_sim_payments')
    .set({ paid_at: at })
    .where('ref', '=', ref)
    .where('paid_at', 'is', null)
    .execute();
}
