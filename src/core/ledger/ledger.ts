// The ledger: every movement of money is one journal of entries that sum to zero, written together with the
// balances it changes, in the caller's transaction. A balance update is conditional (`balance + amount >= 0` for
// accounts that may not go negative), so "never below zero" holds under any concurrency without a lock held
// across the request. Journals are unique per (kind, reference): posting the same refund twice is impossible.

import type { Generated } from 'kysely';
import { sql } from 'kysely';
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

export type LedgerKind = 'wallet' | 'clearing' | 'revenue' | 'cash' | 'adjustment';

export interface LedgerAccountRef {
  code: string;
  kind: LedgerKind;
  ownerAccountId?: number;
  /**
   * A house account that every journal of a kind touches (provider clearing, revenue) would be one row that every
   * purchase locks until it commits. With `shards: n` it is n rows `code#0…code#n-1`; a journal uses the row chosen
   * by its reference, so a refund lands on the row its purchase used. `sharedBalance` adds them up.
   */
  shards?: number;
}

export interface Posting {
  account: LedgerAccountRef;
  amount: number;
}

export type PostResult =
  | { ok: true; journalId: number; balances: Map<string, number> }
  | { ok: false; reason: 'insufficient'; account: string }
  | { ok: false; reason: 'duplicate' };

/** Outside accounts may go negative; customer-facing and revenue accounts may not. */
const mayGoNegative = (kind: LedgerKind) => kind === 'cash' || kind === 'adjustment';

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

const rowCode = (ref: LedgerAccountRef, reference: string) =>
  ref.shards && ref.shards > 1 ? `${ref.code}#${shardOf(reference, ref.shards)}` : ref.code;

async function ensureAccount(db: Executor, code: string, ref: LedgerAccountRef): Promise<void> {
  await db
    .insertInto('ledger_accounts')
    .values({
      code,
      kind: ref.kind,
      owner_account_id: ref.ownerAccountId ?? null,
      allow_negative: mayGoNegative(ref.kind),
    })
    .onConflict((oc) => oc.column('code').doNothing())
    .execute();
}

/**
 * Posts one balanced journal through `db` (pass the caller's transaction). Returns a named result instead of
 * throwing for the two expected outcomes: an account would go below zero (nothing is written — the caller's
 * transaction must be rolled back or abandoned by the caller when it already wrote something), or the
 * (kind, reference) journal already exists.
 */
export async function post(
  db: Executor,
  journal: { kind: string; reference: string; memo?: string; at: Date },
  postings: Posting[],
): Promise<PostResult> {
  const total = postings.reduce((s, p) => s + p.amount, 0);
  if (postings.length < 2 || total !== 0 || postings.some((p) => !Number.isSafeInteger(p.amount) || p.amount === 0)) {
    throw new Error(`unbalanced or invalid journal ${journal.kind}/${journal.reference}`);
  }
  const created = await db
    .insertInto('ledger_journals')
    .values({ kind: journal.kind, reference: journal.reference, memo: journal.memo ?? null, created_at: journal.at })
    .onConflict((oc) => oc.columns(['kind', 'reference']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!created) return { ok: false, reason: 'duplicate' };

  // Fixed order of row locks across all journals (by code), so two journals touching the same accounts cannot
  // deadlock. Each account is changed by its code: one statement, no lookup, unless the account is new.
  const rows = postings
    .map((p) => ({ ...p, code: rowCode(p.account, journal.reference) }))
    .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  const balances = new Map<string, number>();
  const entries: { journal_id: number; ledger_account_id: number; amount: number; created_at: Date }[] = [];
  for (const p of rows) {
    const change = () =>
      db
        .updateTable('ledger_accounts')
        .set({ balance: sql`balance + ${p.amount}`, updated_at: journal.at })
        .where('code', '=', p.code)
        .where(sql<boolean>`(allow_negative OR balance + ${p.amount} >= 0)`)
        .returning(['id', 'balance'])
        .executeTakeFirst();
    let row = await change();
    if (!row) {
      const exists = await db.selectFrom('ledger_accounts').select('id').where('code', '=', p.code).executeTakeFirst();
      if (exists) return { ok: false, reason: 'insufficient', account: p.account.code };
      await ensureAccount(db, p.code, p.account);
      row = await change();
      if (!row) return { ok: false, reason: 'insufficient', account: p.account.code };
    }
    balances.set(p.code, row.balance);
    entries.push({ journal_id: created.id, ledger_account_id: row.id, amount: p.amount, created_at: journal.at });
  }
  await db.insertInto('ledger_entries').values(entries).execute();
  return { ok: true, journalId: created.id, balances };
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
