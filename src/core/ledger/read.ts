// Reading the ledger back for reports. A module's money numbers (revenue, what is still owed, how old it is) are
// sums of the entries its journals posted; these are the ledger's tables seen as subqueries that a module joins
// with its own rows in one set-based statement, so a report never reads the ledger row by row.
import { type RawBuilder, sql } from 'kysely';

/** A LIKE pattern for codes that start with `prefix` (its own `%`, `_` and `\` taken literally). */
const startsWith = (prefix: string) => `${prefix.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

export interface PostingFilter {
  /** Journal kinds, e.g. `['shop.sale', 'shop.refund']`. */
  kinds: readonly string[];
  /** Only entries on accounts whose code starts with this (e.g. `receivable:shop:`). */
  accountPrefix: string;
  /** Journals dated at or after `from` and before `to`. */
  from?: Date;
  to?: Date;
}

/** One entry of a journal, as `postings()` yields it. */
export interface PostingRow {
  journal_id: number;
  kind: string;
  reference: string;
  /** The journal's date (`JournalHeader.at`). */
  at: Date;
  code: string;
  amount: number;
}

/**
 * The entries of journals of `kinds` on accounts under `accountPrefix`, as a subquery with the columns of
 * `PostingRow` (use it as `FROM ${postings(f)} AS p`). Joins on `p.reference` use the journals' (kind, reference)
 * key; a date range uses the (kind, created_at) index (migrations/0044).
 */
export function postings(f: PostingFilter): RawBuilder<PostingRow> {
  const from = f.from ? sql`AND j.created_at >= ${f.from}` : sql``;
  const to = f.to ? sql`AND j.created_at < ${f.to}` : sql``;
  return sql<PostingRow>`(
    SELECT j.id AS journal_id, j.kind, j.reference, j.created_at AS at, a.code, e.amount
    FROM ledger_journals j
    JOIN ledger_entries e ON e.journal_id = j.id
    JOIN ledger_accounts a ON a.id = e.ledger_account_id
    WHERE j.kind = ANY(${[...f.kinds]}::text[]) AND a.code LIKE ${startsWith(f.accountPrefix)} ${from} ${to}
  )`;
}

/** The accounts whose code starts with `prefix`, with their balances: a subquery of `(code, balance)`. */
export function accountsUnder(prefix: string): RawBuilder<{ code: string; balance: number }> {
  return sql<{ code: string; balance: number }>`(
    SELECT code, balance FROM ledger_accounts WHERE code LIKE ${startsWith(prefix)}
  )`;
}
