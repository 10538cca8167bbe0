// The ledger: every movement of money is one journal of entries that sum to zero, written together with the
// balances it changes, in the caller's transaction. A balance update is conditional (`balance + amount >= 0` for
// accounts that may not go negative), so "never below zero" holds under any concurrency without a lock held
// across the request. Journals are unique per (kind, reference): posting the same refund twice is impossible.

import type { Generated } from 'kysely';
import { type RawBuilder, sql } from 'kysely';
import type { Executor, Timestamp } from '../db/tables.ts';

interface LedgerAccountsTable {
  id: Generated<number>;
  code: string;
  kind: LedgerKind;
  owner_account_id: number | null;
  allow_negative: Generated<boolean>;
  balance: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
interface LedgerJournalsTable {
  id: Generated<number>;
  kind: string;
  reference: string;
  memo: string | null;
  created_at: Timestamp;
}
interface LedgerEntriesTable {
  id: Generated<number>;
  journal_id: number;
  ledger_account_id: number;
  amount: number;
  created_at: Timestamp;
}

declare module '../db/tables.ts' {
  interface Tables {
    ledger_accounts: LedgerAccountsTable;
    ledger_journals: LedgerJournalsTable;
    ledger_entries: LedgerEntriesTable;
  }
}

/** Outside accounts (`cash`, `adjustment`) may go negative; customer-facing and revenue accounts may not: the rule
 * lives in `ledger_post` (migrations/0012). */
export type LedgerKind = 'wallet' | 'clearing' | 'revenue' | 'cash' | 'adjustment';

export interface LedgerAccountRef {
  code: string;
  kind: LedgerKind;
  ownerAccountId?: number;
  /**
   * A house account that every journal of a kind touches (provider clearing, revenue) would be one row that every
   * purchase locks until it commits. With `shards: n` it is n rows `code#0…code#n-1`; a journal uses the row chosen
   * by its reference unless the posting names one (`Posting.shard`). `sharedBalance` adds them up.
   */
  shards?: number;
}

export interface Posting {
  account: LedgerAccountRef;
  amount: number;
  /**
   * The row of a sharded account to post to, 0…shards-1; without it, the row chosen by the journal's reference.
   * Journals posted together on one row of their own do not wait for each other's locks; whoever takes money back
   * out of such a row later (a settlement, a refund) must name the same row.
   */
  shard?: number;
}

export type PostResult =
  | { ok: true; journalId: number; balances: Map<string, number> }
  | { ok: false; reason: 'insufficient'; account: string }
  | { ok: false; reason: 'duplicate' };

export const walletCode = (module: string, accountId: number) => `wallet:${module}:${accountId}`;

/** FNV-1a of the reference: stable across processes and versions, so a journal's shard never moves. */
function shardOf(reference: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < reference.length; i++) {
    h ^= reference.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

function rowCode(p: Posting, reference: string): string {
  const { account: ref, shard } = p;
  if (!ref.shards || ref.shards <= 1) return ref.code;
  if (shard === undefined) return `${ref.code}#${shardOf(reference, ref.shards)}`;
  if (!Number.isInteger(shard) || shard < 0 || shard >= ref.shards) {
    throw new Error(`no row ${shard} in ${ref.code} (${ref.shards} rows)`);
  }
  return `${ref.code}#${shard}`;
}

/** SQLSTATE raised by `ledger_post` (migrations/0012) when an account may not go below zero and would. */
export const INSUFFICIENT_SQLSTATE = 'LK001';

export interface JournalHeader {
  kind: string;
  reference: string;
  memo?: string;
  at: Date;
}

/** A journal's postings checked (balanced, whole non-zero amounts) with their row codes, sorted by code. */
export function sortedRows(kind: string, reference: string, postings: Posting[]) {
  const total = postings.reduce((s, p) => s + p.amount, 0);
  if (postings.length < 2 || total !== 0 || postings.some((p) => !Number.isSafeInteger(p.amount) || p.amount === 0)) {
    throw new Error(`unbalanced or invalid journal ${kind}/${reference}`);
  }
  return postings
    .map((p) => ({ ...p, code: rowCode(p, reference) }))
    .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}

/**
 * The SQL call that posts a journal: one statement, `ledger_post` (migrations/0012_ledger_post.sql). Postings are
 * sorted by account code first — the fixed lock order that keeps two journals touching the same accounts from
 * deadlocking. Exposed so a module can embed the posting in a larger statement (a purchase statement that debits and records at once); `codes` are
 * the account rows in the order of `out_codes`/`out_balances`.
 */
export function postingCall(journal: JournalHeader, postings: Posting[]) {
  const rows = sortedRows(journal.kind, journal.reference, postings);
  const codes = rows.map((r) => r.code);
  const call = sql<{
    out_journal: string | null;
    out_codes: string[] | null;
    out_balances: string[] | null;
  }>`ledger_post(
    ${journal.kind}, ${journal.reference}, ${journal.memo ?? null}, ${journal.at},
    ${codes}::text[], ${rows.map((r) => r.account.kind)}::text[],
    ${rows.map((r) => r.account.ownerAccountId ?? null)}::bigint[], ${rows.map((r) => r.amount)}::bigint[])`;
  return { call, codes };
}

/**
 * The SQL call that posts many journals of one kind in one statement, `ledger_post_many`
 * (migrations/0014_ledger_post_many.sql): each journal posts whole or not at all, and one that would take an account
 * below zero is reported instead of failing the others. Every journal must have the same number of postings. Rows
 * of the result: `out_index` (1-based position in `journals`), `out_reason` ('ok' | 'insufficient' | 'duplicate'),
 * `out_balances` in the order of `codes[out_index - 1]`.
 */
export function postingBatchCall(kind: string, at: Date, journals: { reference: string; postings: Posting[] }[]) {
  const rows = journals.map((j) => sortedRows(kind, j.reference, j.postings));
  const width = rows[0]?.length ?? 0;
  if (rows.length === 0 || rows.some((r) => r.length !== width)) {
    throw new Error(`a journal batch needs journals of one shape (${kind})`);
  }
  const codes = rows.map((r) => r.map((p) => p.code));
  const call = sql<{
    out_index: number;
    out_reason: 'ok' | 'insufficient' | 'duplicate';
    out_journal: string | null;
    out_balances: string[] | null;
  }>`ledger_post_many(
    ${kind}, ${journals.map((j) => j.reference)}::text[], ${at},
    ${codes}::text[], ${rows.map((r) => r.map((p) => p.account.kind))}::text[],
    ${rows.map((r) => r.map((p) => p.account.ownerAccountId ?? null))}::bigint[],
    ${rows.map((r) => r.map((p) => p.amount))}::bigint[])`;
  return { call, codes };
}

/** Journals of one kind posted together (`postingBatchCall`). */
export interface JournalBatch {
  kind: string;
  at: Date;
  journals: { reference: string; postings: Posting[] }[];
}

/** One journal of a batch: posted (`ok`, with the balances after it, by row code) or why not. */
export interface BatchOutcome {
  reason: 'ok' | 'insufficient' | 'duplicate';
  balances: Map<string, number>;
}

/**
 * Posts several batches of journals in the caller's transaction, after locking every account row any of them
 * touches at once, in code order: taken batch by batch, two callers could each hold a row the other's next batch
 * needs. The rows must exist (`ensureAccounts`). Answers one outcome per journal, per batch, in order.
 */
export async function postBatches(trx: Executor, batches: JournalBatch[]): Promise<BatchOutcome[][]> {
  const calls = batches.map((b) => postingBatchCall(b.kind, b.at, b.journals));
  const codes = [...new Set(calls.flatMap((c) => c.codes.flat()))].sort();
  if (codes.length === 0) return [];
  await sql`SELECT 1 FROM ledger_accounts WHERE code = ANY(${codes}::text[]) ORDER BY code COLLATE "C" FOR UPDATE`.execute(
    trx,
  );
  const outcomes: BatchOutcome[][] = [];
  for (const { call, codes: rows } of calls) {
    const posted = (
      await sql<{ out_reason: BatchOutcome['reason']; out_balances: string[] | null }>`
      SELECT * FROM ${call} ORDER BY out_index`.execute(trx)
    ).rows;
    outcomes.push(
      posted.map((r, i) => {
        const balances = new Map<string, number>();
        rows[i]?.forEach((code, j) => {
          if (r.out_balances) balances.set(code, Number(r.out_balances[j]));
        });
        return { reason: r.out_reason, balances };
      }),
    );
  }
  return outcomes;
}

export const isInsufficient = (err: unknown) => (err as { code?: unknown })?.code === INSUFFICIENT_SQLSTATE;

/**
 * Posts one balanced journal through `db` (pass the caller's transaction). Returns a named result instead of
 * throwing for the two expected outcomes: an account would go below zero (the statement failed, so a caller inside
 * a transaction must abandon it — every caller throws), or the (kind, reference) journal already exists.
 */
export async function post(db: Executor, journal: JournalHeader, postings: Posting[]): Promise<PostResult> {
  const { call } = postingCall(journal, postings);
  let row: { out_journal: string | null; out_codes: string[] | null; out_balances: string[] | null } | undefined;
  try {
    row = (await sql<NonNullable<typeof row>>`SELECT * FROM ${call}`.execute(db)).rows[0];
  } catch (err) {
    if (isInsufficient(err)) {
      return { ok: false, reason: 'insufficient', account: String((err as { detail?: unknown }).detail ?? '') };
    }
    throw err;
  }
  if (!row?.out_journal) return { ok: false, reason: 'duplicate' };
  const balances = new Map<string, number>();
  row.out_codes?.forEach((code, i) => {
    balances.set(code, Number(row.out_balances?.[i]));
  });
  return { ok: true, journalId: Number(row.out_journal), balances };
}

/**
 * Creates the rows of accounts that do not exist yet (every shard of a sharded one), committed on their own. A
 * journal batch (`ledger_post_many`) locks the rows it touches in one order before posting; a row it had to create
 * mid-batch would escape that order and could deadlock two batches. House accounts that batches credit (clearing,
 * revenue) are therefore created up front, when a module starts.
 */
export async function ensureAccounts(db: Executor, refs: LedgerAccountRef[]): Promise<void> {
  const rows = refs.flatMap((ref) =>
    (ref.shards && ref.shards > 1 ? Array.from({ length: ref.shards }, (_, i) => `${ref.code}#${i}`) : [ref.code]).map(
      (code) => ({
        code,
        kind: ref.kind,
        owner_account_id: ref.ownerAccountId ?? null,
        allow_negative: ref.kind === 'cash' || ref.kind === 'adjustment',
      }),
    ),
  );
  if (rows.length === 0) return;
  await db
    .insertInto('ledger_accounts')
    .values(rows)
    .onConflict((oc) => oc.column('code').doNothing())
    .execute();
}

/**
 * Posts many journals of one kind from a query, with a fixed number of set-based statements whatever their number
 * (imports of history, generated data): linear where `ledger_post_many` decides journal by journal. `postings`
 * yields one row per posting, `(reference text, at timestamptz, code text, kind text, amount bigint)`; the rows of a
 * journal share its reference and time. Every journal must have at least two postings, none of them zero, summing
 * to zero, or nothing is posted (an error names the first bad reference). A reference already posted under `kind`
 * is skipped whole (`duplicates`). Accounts are created on first use (without an owner), the touched rows locked in
 * code order, journals inserted in time order, then the entries, then one update per touched balance. Only the net
 * change of each balance is checked (by the table's CHECK): the set is taken as one movement, so it suits history
 * written in order, not payments that must be refused one by one. Run it inside a transaction.
 */
export async function postFromQuery(
  trx: Executor,
  kind: string,
  postings: RawBuilder<unknown>,
): Promise<{ posted: number; duplicates: number }> {
  await sql`CREATE TEMP TABLE ledger_bulk_postings ON COMMIT DROP AS
    SELECT p.reference::text AS reference, p.at::timestamptz AS at, p.code::text AS code, p.kind::text AS kind,
           p.amount::bigint AS amount
      FROM (${postings}) AS p (reference, at, code, kind, amount)`.execute(trx);
  await sql`ANALYZE ledger_bulk_postings`.execute(trx);
  // On an error the caller's transaction is undone, and the temporary tables with it.
  const bad = await sql<{ reference: string }>`
    SELECT reference FROM ledger_bulk_postings GROUP BY reference
    HAVING count(*) < 2 OR sum(amount) IS DISTINCT FROM 0
        OR bool_or(amount IS NULL OR amount = 0 OR code IS NULL OR at IS NULL
                   OR kind NOT IN ('wallet', 'clearing', 'revenue', 'cash', 'adjustment'))
    LIMIT 1`.execute(trx);
  if (bad.rows[0]) throw new Error(`unbalanced or invalid journal ${kind}/${bad.rows[0].reference}`);
  await sql`
    INSERT INTO ledger_accounts (code, kind, allow_negative)
    SELECT code, kind, kind IN ('cash', 'adjustment') FROM (
      SELECT DISTINCT ON (code) code, kind FROM ledger_bulk_postings ORDER BY code, reference
    ) a ORDER BY code COLLATE "C"
    ON CONFLICT (code) DO NOTHING`.execute(trx);
  await sql`
    SELECT 1 FROM ledger_accounts WHERE code IN (SELECT code FROM ledger_bulk_postings)
    ORDER BY code COLLATE "C" FOR UPDATE`.execute(trx);
  await sql`CREATE TEMP TABLE ledger_bulk_journals (id bigint, reference text) ON COMMIT DROP`.execute(trx);
  await sql`
    WITH ins AS (
      INSERT INTO ledger_journals (kind, reference, created_at)
      SELECT ${kind}, reference, at FROM (
        SELECT reference, min(at) AS at FROM ledger_bulk_postings GROUP BY reference
      ) j ORDER BY at, reference
      ON CONFLICT (kind, reference) DO NOTHING
      RETURNING id, reference
    )
    INSERT INTO ledger_bulk_journals SELECT id, reference FROM ins`.execute(trx);
  await sql`ANALYZE ledger_bulk_journals`.execute(trx);
  await sql`
    INSERT INTO ledger_entries (journal_id, ledger_account_id, amount, created_at)
    SELECT j.id, a.id, p.amount, p.at
      FROM ledger_bulk_postings p
      JOIN ledger_bulk_journals j ON j.reference = p.reference
      JOIN ledger_accounts a ON a.code = p.code
     ORDER BY j.id, a.code COLLATE "C"`.execute(trx);
  await sql`
    UPDATE ledger_accounts a SET balance = a.balance + d.delta, updated_at = greatest(a.updated_at, d.last)
      FROM (
        SELECT p.code, sum(p.amount) AS delta, max(p.at) AS last
          FROM ledger_bulk_postings p JOIN ledger_bulk_journals j ON j.reference = p.reference
         GROUP BY p.code
      ) d
     WHERE a.code = d.code`.execute(trx);
  const counts = await sql<{ posted: number; total: number }>`
    SELECT (SELECT count(*) FROM ledger_bulk_journals)::int AS posted,
           (SELECT count(DISTINCT reference) FROM ledger_bulk_postings)::int AS total`.execute(trx);
  const { posted = 0, total = 0 } = counts.rows[0] ?? {};
  await sql`DROP TABLE ledger_bulk_postings, ledger_bulk_journals`.execute(trx);
  return { posted, duplicates: total - posted };
}

export async function balanceOf(db: Executor, code: string): Promise<number> {
  const row = await db.selectFrom('ledger_accounts').select('balance').where('code', '=', code).executeTakeFirst();
  return row?.balance ?? 0;
}

/** The balance of an account kept in shards (see `LedgerAccountRef.shards`): the sum of its rows. */
export async function sharedBalance(db: Executor, ref: LedgerAccountRef): Promise<number> {
  const codes = [ref.code, ...Array.from({ length: ref.shards ?? 0 }, (_, i) => `${ref.code}#${i}`)];
  const row = await db
    .selectFrom('ledger_accounts')
    .select(sql<string>`COALESCE(sum(balance), 0)::bigint`.as('total'))
    .where('code', 'in', codes)
    .executeTakeFirst();
  return Number(row?.total ?? 0);
}

/** Ledger-wide checks for tests and operators: every journal sums to zero, balances equal their entries. */
export async function audit(
  db: Executor,
): Promise<{ unbalancedJournals: number; driftedAccounts: number; total: number }> {
  const unbalanced = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM (
      SELECT journal_id FROM ledger_entries GROUP BY journal_id HAVING sum(amount) <> 0
    ) j`.execute(db);
  const drifted = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM ledger_accounts a
    WHERE a.balance <> COALESCE((SELECT sum(e.amount) FROM ledger_entries e WHERE e.ledger_account_id = a.id), 0)`.execute(
    db,
  );
  const total = await sql<{ t: number }>`SELECT COALESCE(sum(balance), 0)::bigint AS t FROM ledger_accounts`.execute(
    db,
  );
  return {
    unbalancedJournals: unbalanced.rows[0]?.n ?? 0,
    driftedAccounts: drifted.rows[0]?.n ?? 0,
    total: Number(total.rows[0]?.t ?? 0),
  };
}
