// Journals that cannot be refused, posted as a set: a fixed handful of statements whatever their number.
import { sql } from 'kysely';
import type { Executor } from '../db/tables.ts';
import { type Posting, sortedRows } from './ledger.ts';

/**
 * Posts many journals of one kind at `at` in the caller's transaction with four statements whatever their number
 * (`ledger_post_many` decides journal by journal, which grows with the square of the batch). For postings that
 * cannot be refused: only the net change of each balance is checked (by the table's `CHECK`, failing the whole
 * statement), so it fits journals where every account that may not go negative only receives money — an invoice's
 * issue (the receivable may go negative; revenue and tax only grow) — not payments out of wallets.
 *
 * Each journal is checked as `post` checks it (balanced, whole non-zero amounts; a sharded account's row chosen by
 * the reference). Missing accounts are created in code order, every touched row is then locked in code order (the
 * order `ledger_post` and `ledger_post_many` lock in), and one statement inserts the journals (a reference already
 * posted under `kind` is skipped whole: `duplicates`), their entries and one update per touched balance.
 */
export async function postUnrefusable(
  trx: Executor,
  kind: string,
  at: Date,
  journals: { reference: string; postings: Posting[] }[],
): Promise<{ posted: number; duplicates: number }> {
  const refs: string[] = [];
  const codes: string[] = [];
  const kinds: string[] = [];
  const owners: (number | null)[] = [];
  const amounts: number[] = [];
  const seen = new Set<string>();
  for (const j of journals) {
    if (seen.has(j.reference)) throw new Error(`journal ${kind}/${j.reference} appears twice in one set`);
    seen.add(j.reference);
    for (const row of sortedRows(kind, j.reference, j.postings)) {
      refs.push(j.reference);
      codes.push(row.code);
      kinds.push(row.account.kind);
      owners.push(row.account.ownerAccountId ?? null);
      amounts.push(row.amount);
    }
  }
  if (refs.length === 0) return { posted: 0, duplicates: 0 };
  const distinct = [...new Set(codes)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  await sql`
    INSERT INTO ledger_accounts (code, kind, owner_account_id, allow_negative)
    SELECT DISTINCT ON (u.code COLLATE "C") u.code, u.kind, u.owner, u.kind IN ('cash', 'adjustment')
      FROM unnest(${codes}::text[], ${kinds}::text[], ${owners}::bigint[]) AS u (code, kind, owner)
     WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.code = u.code)
     ORDER BY u.code COLLATE "C"
    ON CONFLICT (code) DO NOTHING`.execute(trx);
  await sql`
    SELECT 1 FROM ledger_accounts WHERE code = ANY(${distinct}::text[]) ORDER BY code COLLATE "C" FOR UPDATE`.execute(
    trx,
  );
  const result = await sql<{ posted: number }>`
    WITH p AS (
      SELECT * FROM unnest(${refs}::text[], ${codes}::text[], ${amounts}::bigint[]) WITH ORDINALITY
        AS p (reference, code, amount, o)
    ), j AS (
      INSERT INTO ledger_journals (kind, reference, created_at)
      SELECT ${kind}, r.reference, ${at}::timestamptz
        FROM (SELECT reference, min(o) AS o FROM p GROUP BY reference) r ORDER BY r.o
      ON CONFLICT (kind, reference) DO NOTHING
      RETURNING id, reference
    ), e AS (
      INSERT INTO ledger_entries (journal_id, ledger_account_id, amount, created_at)
      SELECT j.id, a.id, p.amount, ${at}::timestamptz
        FROM p JOIN j ON j.reference = p.reference JOIN ledger_accounts a ON a.code = p.code
       ORDER BY p.o
      RETURNING ledger_account_id, amount
    ), u AS (
      UPDATE ledger_accounts a
         SET balance = a.balance + d.delta, updated_at = greatest(a.updated_at, ${at}::timestamptz)
        FROM (SELECT ledger_account_id, sum(amount) AS delta FROM e GROUP BY ledger_account_id) d
       WHERE a.id = d.ledger_account_id
      RETURNING a.id
    )
    SELECT (SELECT count(*) FROM j)::int AS posted, (SELECT count(*) FROM u)::int AS touched`.execute(trx);
  const posted = result.rows[0]?.posted ?? 0;
  return { posted, duplicates: journals.length - posted };
}
