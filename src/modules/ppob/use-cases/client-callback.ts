// Client callbacks (Standard Webhooks): the final status of a purchase, queued in the transaction that made it
// final, and POSTed to the reseller's URL by a job (jobs/client-callback.ts), signed with the reseller's private key.
import type { Trx } from '../../../core/db/tables.ts';
import { localTime } from '../../../core/time.ts';
import { insertCallback } from '../repo/resellers.ts';
import type { PpobTransaction } from '../repo/tables.ts';
import type { PpobDeps } from '../wire.ts';

export const CLIENT_CALLBACK_JOB = 'ppob.client-callback';

/** Queues the signed POST of a final status to the reseller's callback `url`, in the caller's transaction. */
export async function queueClientCallback(
  d: Pick<PpobDeps, 'core' | 'now'>,
  trx: Trx,
  t: PpobTransaction,
  url: string,
): Promise<void> {
  const payload = {
    type: `transaksi.${t.status}`,
    timestamp: localTime(d.now()),
    data: {
      trx_id: t.trx_id,
      kode_produk: t.kode_produk,
      nomor_tujuan: t.nomor_tujuan,
      status: t.status,
      hasil_eksekusi: t.hasil_eksekusi,
      nominal: t.harga,
      sisa_saldo: t.sisa_saldo,
      waktu: localTime(t.waktu),
    },
  };
  const row = await insertCallback(trx, {
    accountId: t.account_id,
    trxId: t.trx_id,
    url,
    webhookId: `msg_${t.trx_id}_${t.status}`,
    payload,
    at: d.now(),
  });
  if (row) await d.core.jobs.enqueue(trx, CLIENT_CALLBACK_JOB, { id: row.id });
}
