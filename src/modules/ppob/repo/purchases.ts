// SQL on purchases (`ppob_transactions`): written together with their ledger journal in one statement, claimed by
// the dispatcher when due, and made final once. Every function takes the handle it runs on.
import { type RawBuilder, sql } from 'kysely';
import type { Executor } from '../../../core/db/tables.ts';
import { accountNames } from '../../../core/identity/accounts.ts';
import type { postingBatchCall, postingCall } from '../../../core/ledger/ledger.ts';
import type { PpobTransaction, Product } from './tables.ts';

/** A purchase accepted by /beli, about to be written. */
export interface Purchase {
  accountId: number;
  product: Product;
  nomorTujuan: string;
  trxId: string;
  at: Date;
}

export const transactionOf = (db: Executor, accountId: number, trxId: string) =>
  db
    .selectFrom('ppob_transactions')
    .selectAll()
    .where('trx_id', '=', trxId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();

export const history = (db: Executor, accountId: number, limit = 100) =>
  db
    .selectFrom('ppob_transactions')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();

/**
 * One purchase, one statement: the journal `call` (its wallet row at `walletIndex`, counted from 1) and the purchase
 * row, due at once. The balance after the debit, or undefined when nothing was recorded. Not enough balance fails
 * the statement (`isInsufficient`), so nothing at all is written.
 */
export async function insertPurchase(
  q: Executor,
  p: Purchase,
  journal: { call: ReturnType<typeof postingCall>['call']; walletIndex: number },
  provider: string,
  clearingRow: number,
): Promise<number | undefined> {
  const row = (
    await sql<{ sisa_saldo: string }>`
      WITH posted AS (SELECT * FROM ${journal.call})
      INSERT INTO ppob_transactions (trx_id, account_id, produk_id, kode_produk, nomor_tujuan, hasil_eksekusi,
        nama_produk, nama_user, email_user, harga, sisa_saldo, provider, waktu, next_check_at, clearing_shard)
      SELECT ${p.trxId}, a.id, ${p.product.id}, ${p.product.kode_produk}, ${p.nomorTujuan},
        'Transaksi sedang diproses', ${p.product.nama}, a.name, a.email, ${p.product.harga},
        posted.out_balances[${journal.walletIndex}], ${provider}, ${p.at}, ${p.at}, ${clearingRow}::smallint
      FROM posted JOIN ${accountNames} a ON a.id = ${p.accountId}
      WHERE posted.out_journal IS NOT NULL
      RETURNING sisa_saldo`.execute(q)
  ).rows[0];
  return row ? Number(row.sisa_saldo) : undefined;
}

/**
 * Many purchases, one statement (`ledger_post_many`): each is posted and recorded whole or, when its wallet is
 * short, not at all, without failing the others. `walletIndex[i]` is the wallet row of purchase i in its journal
 * (from 1). Rows per purchase, in order: the journal's outcome, the balance after it, and how many purchase rows the
 * statement wrote in all.
 */
export async function insertPurchases(
  db: Executor,
  ps: Purchase[],
  journals: { call: ReturnType<typeof postingBatchCall>['call']; walletIndex: number[] },
  provider: string,
  clearingRow: number,
) {
  return (
    await sql<{ i: number; reason: string; sisa: string | null; recorded: string }>`
      WITH posted AS (SELECT * FROM ${journals.call}),
      items AS (
        SELECT * FROM unnest(${ps.map((p) => p.trxId)}::text[], ${ps.map((p) => p.accountId)}::bigint[],
          ${ps.map((p) => p.product.id)}::bigint[], ${ps.map((p) => p.product.kode_produk)}::text[],
          ${ps.map((p) => p.nomorTujuan)}::text[], ${ps.map((p) => p.product.nama)}::text[],
          ${ps.map((p) => p.product.harga)}::bigint[], ${journals.walletIndex}::int[], ${ps.map((p) => p.at)}::timestamptz[])
          WITH ORDINALITY AS i (trx_id, account_id, produk_id, kode_produk, nomor_tujuan, nama_produk, harga, w, at, ord)
      ),
      recorded AS (
        INSERT INTO ppob_transactions (trx_id, account_id, produk_id, kode_produk, nomor_tujuan, hasil_eksekusi,
          nama_produk, nama_user, email_user, harga, sisa_saldo, provider, waktu, next_check_at, clearing_shard)
        SELECT i.trx_id, a.id, i.produk_id, i.kode_produk, i.nomor_tujuan, 'Transaksi sedang diproses',
          i.nama_produk, a.name, a.email, i.harga, p.out_balances[i.w], ${provider}, i.at, i.at, ${clearingRow}::smallint
        FROM posted p JOIN items i ON i.ord = p.out_index JOIN ${accountNames} a ON a.id = i.account_id
        WHERE p.out_reason = 'ok'
        RETURNING trx_id
      )
      SELECT p.out_index AS i, p.out_reason AS reason, p.out_balances[i.w] AS sisa,
        (SELECT count(*) FROM recorded) AS recorded
      FROM posted p JOIN items i ON i.ord = p.out_index
      ORDER BY p.out_index`.execute(db)
  ).rows;
}

/**
 * Still-pending provider answers: one UPDATE records them and makes each row due again at `next` (SQL, which may
 * read the row's own `checks`). Answers the trx_ids still pending.
 */
export async function markPendingAgain(
  trx: Executor,
  items: { trxId: string; hasil: string; code: string | null }[],
  next: RawBuilder<Date>,
): Promise<string[]> {
  const due = await sql<{ trx_id: string }>`
    UPDATE ppob_transactions t SET checks = t.checks + 1, hasil_eksekusi = v.hasil, provider_code = v.code,
      next_check_at = ${next}
    FROM unnest(${items.map((x) => x.trxId)}::text[], ${items.map((x) => x.hasil)}::text[],
      ${items.map((x) => x.code)}::text[]) AS v (trx_id, hasil, code)
    WHERE t.trx_id = v.trx_id AND t.status = 'pending'
    RETURNING t.trx_id`.execute(trx);
  return due.rows.map((r) => r.trx_id);
}

/** The rows of `trxIds` still pending, locked for the caller's transaction (in id order). */
export const lockPending = async (trx: Executor, trxIds: string[]) =>
  (
    await sql<PpobTransaction>`
      SELECT * FROM ppob_transactions WHERE trx_id = ANY(${trxIds}::text[]) AND status = 'pending'
      ORDER BY id FOR UPDATE`.execute(trx)
  ).rows;

/** Writes final outcomes, one UPDATE for all. */
export async function finalise(
  trx: Executor,
  done: Pick<PpobTransaction, 'id' | 'status' | 'hasil_eksekusi' | 'serial_number' | 'provider_code' | 'sisa_saldo'>[],
  at: Date,
): Promise<void> {
  await sql`
    UPDATE ppob_transactions t SET status = v.status, hasil_eksekusi = v.hasil, serial_number = v.sn,
      provider_code = v.code, sisa_saldo = v.sisa, checks = t.checks + 1, finished_at = ${at},
      next_check_at = NULL
    FROM unnest(${done.map((t) => t.id)}::bigint[], ${done.map((t) => t.status)}::text[],
      ${done.map((t) => t.hasil_eksekusi)}::text[], ${done.map((t) => t.serial_number)}::text[],
      ${done.map((t) => t.provider_code)}::text[], ${done.map((t) => t.sisa_saldo)}::bigint[])
      AS v (id, status, hasil, sn, code, sisa)
    WHERE t.id = v.id`.execute(trx);
}

/** Claims up to `limit` due purchases, leasing each until `leaseUntil` (FOR UPDATE SKIP LOCKED: instances share). */
export const claimDue = async (db: Executor, at: Date, leaseUntil: Date, limit: number) =>
  (
    await sql<PpobTransaction>`
      UPDATE ppob_transactions SET next_check_at = ${leaseUntil}
      WHERE id IN (
        SELECT id FROM ppob_transactions
        WHERE status = 'pending' AND next_check_at <= ${at}
        ORDER BY next_check_at LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
      RETURNING *`.execute(db)
  ).rows;

/** When the next pending purchase is due, if any is. */
export const nextDue = async (db: Executor): Promise<Date | undefined> => {
  const row = await db
    .selectFrom('ppob_transactions')
    .select((eb) => eb.fn.min('next_check_at').as('due'))
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return row?.due ? new Date(row.due) : undefined;
};
