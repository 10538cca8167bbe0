// The PPOB module's ledger accounts: a wallet per reseller, the provider clearing account every purchase passes
// through, revenue, the QRIS cash account top-ups come from, and admin adjustments.
import type { Executor } from '../../core/db/tables.ts';
import { AppError } from '../../core/http/errors.ts';
import { type JournalHeader, type Posting, post, walletCode } from '../../core/ledger/ledger.ts';

export const MODULE = 'ppob';
// Every purchase touches clearing and every success revenue: kept in 64 rows each so purchases do not queue on one
// row lock (the ledger's `shards`).
export const CLEARING = { code: 'clearing:ppob:provider', kind: 'clearing', shards: 64 } as const;
export const REVENUE = { code: 'revenue:ppob', kind: 'revenue', shards: 64 } as const;
export const CASH_QRIS = { code: 'cash:ppob:qris', kind: 'cash' } as const;
export const ADJUSTMENTS = { code: 'adjustment:ppob', kind: 'adjustment' } as const;
export const wallet = (accountId: number) => ({
  code: walletCode(MODULE, accountId),
  kind: 'wallet' as const,
  ownerAccountId: accountId,
});

export const insufficient = () => new AppError('INSUFFICIENT_BALANCE', 'Saldo tidak mencukupi');

/** Posts one journal in the caller's transaction; too little balance is the module's 400, a repeat a bug. */
export async function postOrFail(trx: Executor, journal: JournalHeader, postings: Posting[]) {
  const res = await post(trx, journal, postings);
  if (res.ok) return res.balances;
  if (res.reason === 'insufficient') throw insufficient();
  throw new Error(`journal ${journal.kind}/${journal.reference} was already posted`);
}
