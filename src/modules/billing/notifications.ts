// Billing's notifications (CONTRACTS §4): what happened, for the people at the console. Each event is stored for
// every billing account at its level or above (or for the named accounts) in the transaction of the change, and
// pushed on `/ws/notifications` after the commit, so a rolled-back payment notifies no one.
//
// How a use case sends one:
//
//   await notifyBilling(core, trx, {
//     type: 'isolir',
//     message: `Pelanggan ${c.nama} diisolir`,
//     data: { pelanggan_id: c.id, pelanggan_nama: c.nama },
//   });
//
// `trx` is the use case's `withTransaction` handle (or `core.database.db` outside one: then it is pushed at once).
// The original web frontend shows an event only when `data` has `pelanggan_nama` (`invoice_number` for
// `new_payment`), so every event about a customer carries it.
import type { Core } from '../../core/context.ts';
import type { Executor } from '../../core/db/tables.ts';
import type { LatePayment } from '../../core/payments/late.ts';
import { localTimeOrNull } from '../../core/time.ts';
import type { Customer } from './repo/customers.ts';
import type { Invoice } from './repo/invoices.ts';

export const BILLING_EVENTS = [
  'new_invoice',
  'new_payment',
  'isolir',
  'buka_isolir',
  'router_offline',
  'import_done',
  'new_customer_for_noc',
  'new_technical_data',
  'late_payment',
] as const;

export type BillingEventType = (typeof BILLING_EVENTS)[number];

export interface BillingEvent {
  type: BillingEventType;
  /** One line in Indonesian, shown as is. */
  message: string;
  data: Record<string, unknown>;
  /** Who gets it: every account at this billing level or above (default 1: everyone who reads billing)… */
  minLevel?: number;
  /** …or exactly these accounts. */
  accountIds?: readonly number[];
}

/** Stores `event` for its recipients through `db` and pushes it after the commit; answers how many it reached. */
export function notifyBilling(core: Pick<Core, 'notifications'>, db: Executor, event: BillingEvent): Promise<number> {
  return core.notifications.notify(db, { module: 'billing', ...event });
}

const invoiceData = (inv: Invoice) => ({
  invoice_id: inv.id,
  nomor_invoice: inv.nomor_invoice,
  invoice_number: inv.nomor_invoice,
  pelanggan_id: inv.pelanggan_id,
  pelanggan_nama: inv.pelanggan_nama,
  periode: inv.periode,
  total_harga: inv.total_harga,
});

/** An invoice was issued (it left Draft or was created waiting for payment). */
export const invoiceIssued = (inv: Invoice): BillingEvent => ({
  type: 'new_invoice',
  message: `Invoice baru ${inv.nomor_invoice} untuk ${inv.pelanggan_nama}`,
  data: { ...invoiceData(inv), tanggal_jatuh_tempo: inv.tanggal_jatuh_tempo },
});

/** Invoices of a period were generated in one batch (one notification for the batch, not one per invoice). */
export const invoicesGenerated = (periode: string, created: { id: number; nomor_invoice: string }[]): BillingEvent => ({
  type: 'new_invoice',
  message: `${created.length} invoice baru untuk periode ${periode}`,
  data: {
    periode,
    jumlah: created.length,
    invoice_ids: created.slice(0, 100).map((c) => c.id),
    nomor_invoice: created[0]?.nomor_invoice ?? null,
  },
});

/** An invoice was paid (Xendit, cash or transfer). */
export const invoicePaid = (inv: Invoice): BillingEvent => ({
  type: 'new_payment',
  message: `Pembayaran diterima: ${inv.nomor_invoice} dari ${inv.pelanggan_nama}`,
  data: {
    ...invoiceData(inv),
    metode_pembayaran: inv.metode_pembayaran,
    paid_at: localTimeOrNull(inv.paid_at),
  },
});

/**
 * Money came through a payment link after its invoice was paid another way or cancelled (or after the link was
 * closed): the administrators owe it back (`GET /api/late-payments/`). For them only (level 50).
 */
export const latePaymentReceived = (row: LatePayment, inv: Invoice | undefined): BillingEvent => ({
  type: 'late_payment',
  message: `Pembayaran ganda Rp ${row.amount.toLocaleString('id-ID')}${inv ? ` untuk ${inv.nomor_invoice} dari ${inv.pelanggan_nama}` : ''}: perlu dikembalikan`,
  data: {
    late_payment_id: row.id,
    payment_reference: row.reference,
    amount: row.amount,
    reason: row.reason,
    ...(inv ? invoiceData(inv) : {}),
    status_invoice: inv?.status_invoice ?? null,
  },
  minLevel: 50,
});

/** A customer was created: the NOC prepares the installation. */
export const customerCreated = (c: Pick<Customer, 'id' | 'nama' | 'alamat' | 'id_brand'>): BillingEvent => ({
  type: 'new_customer_for_noc',
  message: `Pelanggan baru ${c.nama} menunggu instalasi`,
  data: { pelanggan_id: c.id, pelanggan_nama: c.nama, alamat: c.alamat, id_brand: c.id_brand },
});

/** Technical data (PPPoE, ONT, port) was recorded for a customer. */
export const technicalCreated = (
  t: { id: number; pelanggan_id: number; id_pelanggan: string | null; ip_pelanggan: string | null },
  pelangganNama: string,
): BillingEvent => ({
  type: 'new_technical_data',
  message: `Data teknis ${pelangganNama} telah ditambahkan`,
  data: {
    data_teknis_id: t.id,
    pelanggan_id: t.pelanggan_id,
    pelanggan_nama: pelangganNama,
    id_pelanggan: t.id_pelanggan,
    ip_pelanggan: t.ip_pelanggan,
  },
});

/** A customer import finished: told to the account that uploaded the file. */
export const importDone = (
  accountId: number,
  r: { total_rows: number; created: number; skipped: number; invalid: number },
): BillingEvent => ({
  type: 'import_done',
  message: `Impor pelanggan selesai: ${r.created} dibuat, ${r.skipped} dilewati, ${r.invalid} tidak valid`,
  data: { total_rows: r.total_rows, created: r.created, skipped: r.skipped, invalid: r.invalid },
  accountIds: [accountId],
});
