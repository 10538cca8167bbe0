// Payment reminders (issue 18): 3 days and 1 day before the due date and on the due date, by e-mail and, where the
// customer has a phone number, by WhatsApp, through the outbox. Each kind goes out at most once per invoice: the
// billing_reminders row and the outbox rows are written in one transaction, and the row's key refuses a second.
// Only invoices still waiting for payment are reminded (a paid, cancelled or overdue one is not).
import type { Core } from '../../../core/context.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import type { OutgoingMessage } from '../../../core/notify/outbox.ts';
import { internationalPhone } from '../../../core/phone.ts';
import { jakartaDate } from '../dates.ts';
import * as repo from '../repo/reminders.ts';
import type { PaymentLinks } from './payment-links.ts';

export const REMINDER_JOB = 'billing.reminders';

const PAGE = 500;
const DAY_MS = 86_400_000;

const MONTHS = [
  'Januari',
  'Februari',
  'Maret',
  'April',
  'Mei',
  'Juni',
  'Juli',
  'Agustus',
  'September',
  'Oktober',
  'November',
  'Desember',
];

/** `10 Desember 2026` from `2026-12-10`. */
export function tanggal(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return `${d} ${MONTHS[m - 1]} ${y}`;
}

/** `Rp333.000` (Indonesian thousands separator, no decimals). */
export function rupiah(amount: number): string {
  return `Rp${String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, '.')}`;
}

const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const daysBetween = (from: string, to: string) => Math.round((Date.parse(to) - Date.parse(from)) / DAY_MS);

/** The reminder due `daysLeft` days before the due date (a run that missed a day still sends the one that applies). */
export function kindFor(daysLeft: number): repo.ReminderKind | undefined {
  if (daysLeft === 0) return 'H0';
  if (daysLeft === 1) return 'H-1';
  if (daysLeft === 2 || daysLeft === 3) return 'H-3';
  return undefined;
}

export interface ReminderText {
  nama: string;
  nomor_invoice: string;
  periode: string;
  total_harga: number;
  tanggal_jatuh_tempo: string;
  payment_link: string;
  daysLeft: number;
}

/** The reminder in Indonesian: the invoice number, amount, due date and payment link. */
export function reminderText(r: ReminderText): { subject: string; body: string; short: string } {
  const due = tanggal(r.tanggal_jatuh_tempo);
  const when = r.daysLeft === 0 ? `jatuh tempo hari ini, ${due}` : `jatuh tempo dalam ${r.daysLeft} hari, pada ${due}`;
  const periode = tanggal(`${r.periode}-01`).replace(/^1 /, '');
  const subject =
    r.daysLeft === 0
      ? `Tagihan ${r.nomor_invoice} jatuh tempo hari ini`
      : `Pengingat tagihan ${r.nomor_invoice}: jatuh tempo ${due}`;
  const body = [
    `Yth. ${r.nama},`,
    '',
    `Tagihan internet Anda ${r.nomor_invoice} periode ${periode} sebesar ${rupiah(r.total_harga)} ${when}.`,
    `Silakan bayar melalui tautan berikut: ${r.payment_link}`,
    '',
    'Abaikan pesan ini bila Anda sudah membayar. Terima kasih.',
  ].join('\n');
  const short = `Yth. ${r.nama}, tagihan ${r.nomor_invoice} sebesar ${rupiah(r.total_harga)} ${when}. Bayar: ${r.payment_link}`;
  return { subject, body, short };
}

export interface ReminderRun {
  /** Reminders recorded (one per invoice and kind), and the messages they made. */
  sent: number;
  messages: number;
  /** Invoices skipped this run because no payment link could be made (a later run tries again). */
  withoutLink: number;
}

export function createReminders(core: Pick<Core, 'database' | 'outbox' | 'logger' | 'now'>, links: PaymentLinks) {
  const { db } = core.database;

  /** Messages of one reminder: e-mail when there is an address, WhatsApp when there is a phone number. */
  function messagesOf(inv: repo.DueInvoice, link: string, daysLeft: number): OutgoingMessage[] {
    const text = reminderText({ ...inv, payment_link: link, daysLeft });
    const out: OutgoingMessage[] = [];
    if (inv.email) out.push({ channel: 'email', to: inv.email, subject: text.subject, body: text.body });
    const phone = inv.no_telp ? internationalPhone(inv.no_telp) : undefined;
    if (phone) out.push({ channel: 'whatsapp', to: phone, body: text.short });
    return out;
  }

  return {
    /** One run: every invoice due within 3 days (WIB) gets the reminder that applies today, if not sent yet. */
    async run(): Promise<ReminderRun> {
      const today = jakartaDate(core.now());
      const result: ReminderRun = { sent: 0, messages: 0, withoutLink: 0 };
      let after = 0;
      for (;;) {
        const page = await repo.dueBetween(db, today, addDays(today, 3), after, PAGE);
        if (page.length === 0) break;
        after = page[page.length - 1]?.id ?? after;
        const todo: { inv: repo.DueInvoice; kind: repo.ReminderKind; link: string; daysLeft: number }[] = [];
        for (const inv of page) {
          const daysLeft = daysBetween(today, inv.tanggal_jatuh_tempo);
          const kind = kindFor(daysLeft);
          if (!kind || inv.sent.includes(kind)) continue;
          const link = await liveLink(inv);
          if (!link) {
            result.withoutLink++;
            continue;
          }
          todo.push({ inv, kind, link, daysLeft });
        }
        if (todo.length === 0) continue;
        await withTransaction(db, async (trx) => {
          const claimed = await repo.claimReminders(
            trx,
            todo.map((t) => ({ invoiceId: t.inv.id, kind: t.kind })),
            core.now(),
          );
          const mine = new Set(claimed.map((c) => `${c.invoice_id}:${c.kind}`));
          const messages = todo
            .filter((t) => mine.has(`${t.inv.id}:${t.kind}`))
            .flatMap((t) => messagesOf(t.inv, t.link, t.daysLeft));
          await core.outbox.sendMany(trx, messages);
          result.sent += claimed.length;
          result.messages += messages.length;
        });
      }
      return result;
    },
  };

  /** The invoice's payment link, made (outside any transaction) when it has none or it expired. */
  async function liveLink(inv: repo.DueInvoice): Promise<string | undefined> {
    const expires = inv.payment_link_expires_at ? new Date(inv.payment_link_expires_at) : undefined;
    if (inv.payment_link && (!expires || expires > core.now())) return inv.payment_link;
    try {
      const fresh = await links.ensure(inv.id);
      return fresh.payment_link ?? undefined;
    } catch (err) {
      core.logger.warn({ invoiceId: inv.id, err: { message: (err as Error).message } }, 'reminder without link');
      return undefined;
    }
  }
}

export type Reminders = ReturnType<typeof createReminders>;
