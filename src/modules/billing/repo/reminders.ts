// SQL for payment reminders: which invoices are due soon, and the one-row-per-invoice-and-kind record that makes
// each reminder go out at most once.
import { type Generated, sql } from 'kysely';
import type { Executor, Timestamp } from '../../../core/db/tables.ts';

export const REMINDER_KINDS = ['H-3', 'H-1', 'H0'] as const;
export type ReminderKind = (typeof REMINDER_KINDS)[number];

interface BillingRemindersTable {
  invoice_id: number;
  kind: ReminderKind;
  sent_at: Generated<Timestamp>;
}

declare module '../../../core/db/tables.ts' {
  interface Tables {
    billing_reminders: BillingRemindersTable;
  }
}

export interface DueInvoice {
  id: number;
  nomor_invoice: string;
  periode: string;
  tanggal_jatuh_tempo: string;
  total_harga: number;
  payment_link: string | null;
  payment_link_expires_at: Date | null;
  nama: string;
  email: string | null;
  no_telp: string | null;
  /** The kinds already sent for this invoice. */
  sent: ReminderKind[];
}

/**
 * Invoices waiting for payment whose due date is between `from` and `to` (inclusive), after `afterId`, in id order:
 * one page of the reminder run.
 */
export async function dueBetween(
  db: Executor,
  from: string,
  to: string,
  afterId: number,
  limit: number,
): Promise<DueInvoice[]> {
  const rows = await db
    .selectFrom('billing_invoices as i')
    .innerJoin('billing_customers as c', 'c.id', 'i.pelanggan_id')
    .select([
      'i.id',
      'i.nomor_invoice',
      'i.periode',
      sql<string>`to_char(i.tanggal_jatuh_tempo, 'YYYY-MM-DD')`.as('tanggal_jatuh_tempo'),
      'i.total_harga',
      'i.payment_link',
      'i.payment_link_expires_at',
      'c.nama',
      'c.email',
      'c.no_telp',
      sql<
        ReminderKind[] | null
      >`(SELECT array_agg(r.kind::text) FROM billing_reminders r WHERE r.invoice_id = i.id)`.as('sent'),
    ])
    .where('i.status_invoice', '=', 'Menunggu Pembayaran')
    .where('i.tanggal_jatuh_tempo', '>=', from)
    .where('i.tanggal_jatuh_tempo', '<=', to)
    .where('i.id', '>', afterId)
    .orderBy('i.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, total_harga: Number(r.total_harga), sent: r.sent ?? [] }));
}

/**
 * Records the reminders about to be sent, only for invoices still waiting for payment and only once per invoice and
 * kind; answers the ones recorded now (the caller sends exactly those, in the same transaction).
 */
export async function claimReminders(
  db: Executor,
  wanted: readonly { invoiceId: number; kind: ReminderKind }[],
  now: Date,
): Promise<{ invoice_id: number; kind: ReminderKind }[]> {
  if (wanted.length === 0) return [];
  const ids = wanted.map((w) => w.invoiceId);
  const kinds = wanted.map((w) => w.kind);
  const res = await sql<{ invoice_id: number; kind: ReminderKind }>`
    INSERT INTO billing_reminders (invoice_id, kind, sent_at)
    SELECT i.id, w.kind, ${now}
      FROM unnest(${ids}::integer[], ${kinds}::text[]) AS w(invoice_id, kind)
      JOIN billing_invoices i ON i.id = w.invoice_id
     WHERE i.status_invoice = 'Menunggu Pembayaran'
    ON CONFLICT (invoice_id, kind) DO NOTHING
    RETURNING invoice_id, kind`.execute(db);
  return res.rows;
}
