// Billing's money in the ledger. Sign convention of the ledger: an entry is added to its account's balance, money
// owed to someone outside is positive on their account, and the outside accounts go negative as money comes in.
//   issue:       receivable −total,  revenue +subtotal,  PPN payable +ppn      (the customer owes the total)
//   payment:     cash −total,        receivable +total                         (the debt is paid, cash came in)
//   cancel:      receivable +total,  revenue −subtotal,  PPN payable −ppn      (the issue reversed)
// Each journal's reference is the invoice id, and (kind, reference) is unique in the ledger, so an invoice is issued,
// paid and cancelled at most once each. Money paid for an invoice that was already paid or cancelled is not billing's
// to post: the payments core books it as a late payment to refund (core/payments/late.ts).
import type { Executor } from '../../core/db/tables.ts';
import { postUnrefusable } from '../../core/ledger/bulk.ts';
import { type LedgerAccountRef, type Posting, post } from '../../core/ledger/ledger.ts';

// A receivable may go negative (it is what the customer owes), so it is an `adjustment`-kind account: the ledger's
// kinds that may go below zero are `cash` and `adjustment`.
const receivable = (pelangganId: number): LedgerAccountRef => ({
  code: `receivable:billing:${pelangganId}`,
  kind: 'adjustment',
});
export const REVENUE: LedgerAccountRef = { code: 'revenue:billing', kind: 'revenue' };
export const PPN_PAYABLE: LedgerAccountRef = { code: 'tax:billing:ppn', kind: 'clearing' };
const cash = (channel: 'xendit' | 'manual'): LedgerAccountRef => ({ code: `cash:billing:${channel}`, kind: 'cash' });

export const receivableCode = (pelangganId: number) => receivable(pelangganId).code;
/** The accounts by code and kind, for postings written in SQL (the demo-data generator's history). */
export const ACCOUNTS = {
  receivablePrefix: receivableCode(0).slice(0, -1),
  receivableKind: receivable(0).kind,
  cash: { xendit: cash('xendit'), manual: cash('manual') },
};

interface Amounts {
  id: number;
  pelanggan_id: number;
  subtotal: number;
  ppn: number;
  total_harga: number;
}

const nonZero = (postings: Posting[]) => postings.filter((p) => p.amount !== 0);

async function journal(db: Executor, kind: string, reference: string, at: Date, postings: Posting[]): Promise<void> {
  const lines = nonZero(postings);
  if (lines.length < 2) return; // a free invoice moves no money
  const result = await post(db, { kind, reference, at }, lines);
  if (!result.ok) throw new Error(`ledger refused ${kind}/${reference}: ${result.reason}`);
}

export const postIssue = (db: Executor, inv: Amounts, at: Date) =>
  journal(db, 'billing.invoice', String(inv.id), at, [
    { account: receivable(inv.pelanggan_id), amount: -inv.total_harga },
    { account: REVENUE, amount: inv.subtotal },
    { account: PPN_PAYABLE, amount: inv.ppn },
  ]);

const issuePostings = (inv: Amounts): Posting[] =>
  nonZero([
    { account: receivable(inv.pelanggan_id), amount: -inv.total_harga },
    { account: REVENUE, amount: inv.subtotal },
    { account: PPN_PAYABLE, amount: inv.ppn },
  ]);

/**
 * `postIssue` for many invoices in the caller's transaction, as one set (`postUnrefusable`: a fixed handful of
 * statements whatever their number). An issue cannot be refused — the receivable may go negative, revenue and PPN
 * only grow — so the journals need not be decided one by one. Each invoice keeps its own `billing.invoice` journal,
 * so payment and cancellation work as for one; one already issued is a bug and undoes the caller's transaction.
 */
export async function postIssues(db: Executor, invs: Amounts[], at: Date): Promise<void> {
  const journals = invs
    .map((inv) => ({ reference: String(inv.id), postings: issuePostings(inv) }))
    .filter((j) => j.postings.length >= 2);
  if (journals.length === 0) return;
  const { duplicates } = await postUnrefusable(db, 'billing.invoice', at, journals);
  if (duplicates > 0) throw new Error(`ledger refused ${duplicates} billing.invoice journals: duplicate`);
}

export const postPayment = (db: Executor, inv: Amounts, channel: 'xendit' | 'manual', at: Date) =>
  journal(db, 'billing.payment', String(inv.id), at, [
    { account: cash(channel), amount: -inv.total_harga },
    { account: receivable(inv.pelanggan_id), amount: inv.total_harga },
  ]);

export const postCancel = (db: Executor, inv: Amounts, at: Date) =>
  journal(db, 'billing.cancel', String(inv.id), at, [
    { account: receivable(inv.pelanggan_id), amount: inv.total_harga },
    { account: REVENUE, amount: -inv.subtotal },
    { account: PPN_PAYABLE, amount: -inv.ppn },
  ]);

/** What the reports read back (src/core/ledger/read.ts): the journals an invoice's money moves in, and the prefix
 * of the customers' receivable accounts (a receivable's balance is minus what the customer still owes). */
export const INVOICE_JOURNALS = {
  issue: 'billing.invoice',
  payment: 'billing.payment',
  cancel: 'billing.cancel',
} as const;
export const RECEIVABLE_PREFIX = 'receivable:billing:';
