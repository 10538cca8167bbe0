// Provider results: the one place a purchase becomes final. A callback from the provider, the dispatcher's answer
// and a re-check may arrive in any order and any number of times: a purchase is settled (clearing → revenue) or
// refunded (clearing → wallet) exactly once.
import { sql } from 'kysely';
import type { Executor } from '../../../core/db/tables.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { type Posting, postBatches, walletCode } from '../../../core/ledger/ledger.ts';
import { CLEARING, MODULE, REVENUE, wallet } from '../ledger.ts';
import type { ProviderResult } from '../providers/provider.ts';
import { finalise, lockPending, markPendingAgain } from '../repo/purchases.ts';
import { callbackUrls } from '../repo/resellers.ts';
import type { PpobTransaction } from '../repo/tables.ts';
import type { PpobDeps, ProviderAnswer } from '../wire.ts';
import { queueClientCallback } from './client-callback.ts';

type Deps = Pick<PpobDeps, 'core' | 'db' | 'provider' | 'now' | 'nextRevenueRow'>;
export type Recorded = 'final' | 'pending' | 'unchanged';

/** When a still-pending purchase is asked about again (SQL, relative to the row's own `checks`). */
const nextCheck = (d: Deps, at: Date) =>
  d.provider.name === 'simulator'
    ? sql<Date>`${new Date(at.getTime() + d.core.config.ppobSimulatorDelayMs)}::timestamptz`
    : sql<Date>`${at}::timestamptz + least(600, 5 * power(2, least(checks, 7))) * interval '1 second'`;

const hasilOf = (r: ProviderResult) => (r.serialNumber ? `${r.message} SN: ${r.serialNumber}` : r.message);

/**
 * Records provider answers, one or many, in one transaction on `via`: still-pending answers by one conditional
 * UPDATE that makes them due again (simulator: after its fixed delay; a real provider: 5 s doubling to 10 min, for
 * as long as it takes — an unknown outcome is never refunded blindly); for final ones, the rows still pending are
 * locked, every settlement (clearing → revenue) and refund (clearing → wallet) is posted with `ledger_post_many`,
 * the rows are written by one UPDATE and their callbacks queued. A row another writer finalised meanwhile is left
 * alone: the lock and the journals' `(kind, reference)` key see to it that a purchase is settled or refunded once.
 * Answers per item: 'final', 'pending' (made due again) or 'unchanged' (no longer pending).
 */
export async function recordMany(
  d: Deps,
  items: ProviderAnswer[],
  via: Executor = d.core.database.worker,
): Promise<Recorded[]> {
  const pending = items.filter((x) => x.result.status === 'pending');
  const byId = new Map(items.filter((x) => x.result.status !== 'pending').map((x) => [x.trxId, x.result]));
  const outcomes = new Map<string, Recorded>();
  await withTransaction(via, async (trx) => {
    if (pending.length > 0) {
      const due = await markPendingAgain(
        trx,
        pending.map((x) => ({ trxId: x.trxId, hasil: hasilOf(x.result), code: x.result.code ?? null })),
        nextCheck(d, d.now()),
      );
      for (const trxId of due) outcomes.set(trxId, 'pending');
    }
    if (byId.size === 0) return;
    const rows = await lockPending(trx, [...byId.keys()]);
    if (rows.length === 0) return;
    for (const t of rows) outcomes.set(t.trx_id, 'final');
    const at = d.now();
    // Every locked row is one of `byId`'s (it was selected by them).
    const final = rows.flatMap((t) => {
      const outcome = byId.get(t.trx_id);
      return outcome ? [{ t, outcome }] : [];
    });
    const revenueRow = d.nextRevenueRow();
    const journals = (ts: PpobTransaction[], to: (t: PpobTransaction) => Posting) =>
      ts.map((t) => ({
        reference: t.trx_id,
        postings: [{ account: CLEARING, amount: -t.harga, shard: t.clearing_shard ?? undefined }, to(t)],
      }));
    const settled = final.filter((x) => x.outcome.status === 'sukses').map((x) => x.t);
    const refunded = final.filter((x) => x.outcome.status === 'gagal').map((x) => x.t);
    const batches = [
      {
        kind: 'ppob.settle',
        ts: settled,
        to: (t: PpobTransaction) => ({ account: REVENUE, amount: t.harga, shard: revenueRow }),
      },
      {
        kind: 'ppob.refund',
        ts: refunded,
        to: (t: PpobTransaction) => ({ account: wallet(t.account_id), amount: t.harga }),
      },
    ].filter((b) => b.ts.length > 0);
    // All batches' accounts are locked at once, in code order (postBatches).
    const posted = await postBatches(
      trx,
      batches.map((b) => ({ kind: b.kind, at, journals: journals(b.ts, b.to) })),
    );
    const sisa = new Map(rows.map((t) => [t.trx_id, t.sisa_saldo]));
    batches.forEach((b, k) => {
      posted[k]?.forEach((r, i) => {
        const t = b.ts[i];
        if (!t) return;
        if (r.reason !== 'ok') throw new Error(`journal ${b.kind}/${t.trx_id}: ${r.reason}`);
        const balance = r.balances.get(walletCode(MODULE, t.account_id));
        if (balance !== undefined) sisa.set(t.trx_id, balance);
      });
    });
    const done = final.map(({ t, outcome }) => ({
      ...t,
      status: outcome.status === 'sukses' ? ('sukses' as const) : ('gagal' as const),
      hasil_eksekusi: hasilOf(outcome),
      serial_number: outcome.serialNumber ?? null,
      provider_code: outcome.code ?? null,
      sisa_saldo: sisa.get(t.trx_id) ?? t.sisa_saldo,
      checks: t.checks + 1,
    }));
    await finalise(trx, done, at);
    const urls = await callbackUrls(trx, [...new Set(done.map((t) => t.account_id))]);
    for (const t of done) {
      const url = urls.get(t.account_id);
      if (url) await queueClientCallback(d, trx, t, url);
    }
  });
  return items.map((x) => outcomes.get(x.trxId) ?? 'unchanged');
}

/** One answer (the provider's own callback: on the request's pool by default). */
export const record = async (d: Deps, trxId: string, result: ProviderResult, via: Executor = d.db) =>
  (await recordMany(d, [{ trxId, result }], via))[0] ?? 'unchanged';
