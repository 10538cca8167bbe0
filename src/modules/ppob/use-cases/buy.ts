// Buying (/beli): the conditional wallet debit, the clearing credit and the purchase row in one statement, alone
// or batched with purchases that arrive together; the dispatcher then takes the purchase to the provider.
import type { Executor } from '../../../core/db/tables.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Claim, StoredResponse } from '../../../core/http/idempotency.ts';
import { isInsufficient, postingBatchCall, postingCall, walletCode } from '../../../core/ledger/ledger.ts';
import { ppobOk } from '../envelope.ts';
import { newId } from '../ids.ts';
import { CLEARING, insufficient, MODULE, wallet } from '../ledger.ts';
import { nomorTujuanOf } from '../numbers.ts';
import { insertPurchase, insertPurchases, type Purchase } from '../repo/purchases.ts';
import type { PpobDeps } from '../wire.ts';

type Writer = Pick<PpobDeps, 'provider' | 'nextClearingRow' | 'now'>;

const purchaseJournal = (p: Purchase, clearingRow: number) => [
  { account: wallet(p.accountId), amount: -p.product.harga },
  { account: CLEARING, amount: p.product.harga, shard: clearingRow },
];

/** One purchase, one statement on `q`. Not enough balance fails the statement, so nothing at all is written. */
export async function purchaseOne(d: Writer, q: Executor, p: Purchase): Promise<number> {
  const clearingRow = d.nextClearingRow();
  const { call, codes } = postingCall(
    { kind: 'ppob.purchase', reference: p.trxId, at: p.at },
    purchaseJournal(p, clearingRow),
  );
  const walletIndex = codes.indexOf(walletCode(MODULE, p.accountId)) + 1; // SQL arrays count from 1
  try {
    const sisa = await insertPurchase(q, p, { call, walletIndex }, d.provider.name, clearingRow);
    if (sisa === undefined) throw new Error(`purchase ${p.trxId} was not recorded`);
    return sisa;
  } catch (err) {
    if (isInsufficient(err)) throw insufficient();
    throw err;
  }
}

/**
 * Many purchases, one statement and one commit (`ledger_post_many`): each is posted and recorded whole or, when
 * its wallet is short, not at all, without failing the others.
 */
export async function purchaseMany(d: Writer & Pick<PpobDeps, 'db'>, ps: Purchase[]) {
  const at = ps[0]?.at ?? d.now();
  const clearingRow = d.nextClearingRow();
  const { call, codes } = postingBatchCall(
    'ppob.purchase',
    at,
    ps.map((p) => ({ reference: p.trxId, postings: purchaseJournal(p, clearingRow) })),
  );
  const walletIndex = ps.map((p, i) => (codes[i] ?? []).indexOf(walletCode(MODULE, p.accountId)) + 1);
  const rows = await insertPurchases(d.db, ps, { call, walletIndex }, d.provider.name, clearingRow);
  const ok = rows.filter((r) => r.reason === 'ok').length;
  if (rows.length !== ps.length || Number(rows[0]?.recorded ?? 0) !== ok) {
    throw new Error(`purchase batch recorded ${rows[0]?.recorded ?? 0} of ${ok} posted journals`);
  }
  return rows.map((r, i): PromiseSettledResult<number> => {
    if (r.reason === 'ok') return { status: 'fulfilled', value: Number(r.sisa) };
    if (r.reason === 'insufficient') return { status: 'rejected', reason: insufficient() };
    return { status: 'rejected', reason: new Error(`purchase ${ps[i]?.trxId} was already posted`) };
  });
}

const purchaseResponse = (p: Purchase, sisa: number): StoredResponse => ({
  status: 200,
  body: ppobOk(
    {
      id: p.trxId,
      'kode-produk': p.product.kode_produk,
      'nomor-tujuan': p.nomorTujuan,
      'nama-produk': p.product.nama,
      status: 'pending',
      harga: p.product.harga,
      sisa_saldo: sisa,
      info: 'Proses transaksi sedang berjalan, cek status untuk hasilnya.',
    },
    'Transaksi berhasil dibuat',
  ),
});

/**
 * One statement: the ledger journal (conditional wallet debit, clearing credit) and the purchase row, due for the
 * dispatcher at once. Without an Idempotency-Key it goes through the purchase batcher, which joins purchases that
 * arrive together into one statement and commit; with one, it runs in a transaction with the claim's answer.
 */
export async function buy(
  d: Pick<PpobDeps, 'db' | 'core' | 'now' | 'catalogue' | 'purchases' | 'dispatcher'> & Writer,
  accountId: number,
  input: { kode_produk: string; nomor_tujuan: string },
  claim: Claim | undefined,
): Promise<StoredResponse> {
  const nomorTujuan = nomorTujuanOf(input.nomor_tujuan);
  const product = (d.catalogue.fresh() ?? (await d.catalogue.get())).byCode.get(input.kode_produk);
  if (!product) throw new AppError('NOT_FOUND', 'Produk tidak ditemukan');
  const purchase: Purchase = {
    accountId,
    product,
    nomorTujuan,
    trxId: newId(d.core.config.ppobTrxPrefix, 20),
    at: d.now(),
  };
  const sisa = claim
    ? await withTransaction(d.db, async (trx) => {
        const s = await purchaseOne(d, trx, purchase);
        await claim.complete(trx, purchaseResponse(purchase, s));
        return s;
      })
    : await d.purchases.submit(purchase);
  d.dispatcher.kick();
  return purchaseResponse(purchase, sisa);
}
