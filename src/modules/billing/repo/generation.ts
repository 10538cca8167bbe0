// SQL for recurring billing: which customers are billed, and the overdue sweep.
import { sql } from 'kysely';
import type { Executor } from '../../../core/db/tables.ts';

/** An active, live customer with a package, and what it costs. */
export async function billable(db: Executor, pelangganId: number) {
  const row = await db
    .selectFrom('billing_customers as c')
    .innerJoin('billing_packages as p', 'p.id', 'c.paket_layanan_id')
    .select([
      'c.id',
      'p.nama_paket',
      'p.harga',
      sql<string | null>`to_char(c.tanggal_instalasi, 'YYYY-MM-DD')`.as('tanggal_instalasi'),
    ])
    .where('c.id', '=', pelangganId)
    .where('c.deleted_at', 'is', null)
    .where('c.status', '!=', 'Berhenti')
    .executeTakeFirst();
  return row && { ...row, harga: Number(row.harga) };
}

export async function billableIds(db: Executor, idBrand?: string): Promise<number[]> {
  let q = db
    .selectFrom('billing_customers')
    .select('id')
    .where('deleted_at', 'is', null)
    .where('status', '!=', 'Berhenti')
    .where('paket_layanan_id', 'is not', null);
  if (idBrand !== undefined) q = q.where('id_brand', '=', idBrand);
  return (await q.orderBy('id').execute()).map((r) => r.id);
}

/** Invoices waiting for payment past their due date become Jatuh Tempo; answers how many. */
export async function markOverdue(db: Executor, today: string, now: Date): Promise<number> {
  const res = await db
    .updateTable('billing_invoices')
    .set({ status_invoice: 'Jatuh Tempo', updated_at: now })
    .where('status_invoice', '=', 'Menunggu Pembayaran')
    .where('tanggal_jatuh_tempo', '<', today)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
