// Billing reminders and overdue marking on a moving clock: 3 days and 1 day before the due date and on it, each at
// most once per invoice, by e-mail and WhatsApp through the outbox; paid and cancelled invoices get none; an
// invoice unpaid after its due date becomes Jatuh Tempo and is reminded no more.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../src/core/ledger/ledger.ts';
import { jakartaDate } from '../src/modules/billing/dates.ts';
import { markOverdue } from '../src/modules/billing/repo/generation.ts';
import { createGeneration } from '../src/modules/billing/use-cases/generate.ts';
import { createPaymentLinks } from '../src/modules/billing/use-cases/payment-links.ts';
import { createReminders, REMINDER_JOB, type Reminders } from '../src/modules/billing/use-cases/reminders.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';

const clock = fakeClock();
/** Moves the clock to `iso` (the app's time keeps running from there). */
const at = (iso: string) => clock.advance(Date.parse(iso) - clock.now().getTime());

let t: TestApp;
let admin: Record<string, string>;
let operator: Record<string, string>;
let reminders: Reminders;

const code = () => `R${randomBytes(3).toString('hex').toUpperCase()}`;
const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: object, payload?: object) =>
  t.app.inject({ method, url, headers: headers as Record<string, string>, payload });

async function until(check: () => Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Message {
  channel: string;
  to: string;
  subject: string | null;
  body: string;
}
async function outbox(to: string, channel?: string): Promise<Message[]> {
  const q = new URLSearchParams({ to, limit: '50', ...(channel ? { channel } : {}) });
  const res = await t.app.inject({ method: 'GET', url: `/_dev/outbox?${q}` });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { messages: Message[] }).messages;
}

const statusOf = async (id: number) =>
  (
    await t.app.loket.database.db
      .selectFrom('billing_invoices')
      .select(['status_invoice', 'payment_link', 'payment_reference'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).status_invoice;

let brand: string;
let pkg: number;
async function customerWithInvoice(extra: { email?: string | null; no_telp?: string }) {
  const c = await call('POST', '/api/pelanggan/', operator, {
    nama: `Pelanggan ${code()}`,
    email: `${code().toLowerCase()}@example.com`,
    paket_layanan_id: pkg,
    ...extra,
  });
  expect(c.statusCode, c.body).toBe(201);
  const customer = c.json() as { id: number; nama: string; email: string | null };
  const inv = await call('POST', '/api/invoices/', operator, {
    pelanggan_id: customer.id,
    periode: '2027-03',
    items: [{ deskripsi: 'Internet 50Mbps 2027-03', jumlah: 1, harga: 250_000 }],
  });
  expect(inv.statusCode, inv.body).toBe(201);
  const invoice = inv.json() as { id: number; nomor_invoice: string; total_harga: number; tanggal_jatuh_tempo: string };
  return { customer, invoice };
}

const linkOf = async (id: number) =>
  (
    await t.app.loket.database.db
      .selectFrom('billing_invoices')
      .select('payment_link')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).payment_link;

type Case = Awaited<ReturnType<typeof customerWithInvoice>>;
let full: Case; // e-mail and phone
let mailOnly: Case;
let phoneOnly: Case;
let paid: Case;
let cancelled: Case;

beforeAll(async () => {
  // Sunday 7 March 2027, 10:00 WIB: three days before the brand's due day (10).
  at('2027-03-07T03:00:00Z');
  t = await startTestApp({ config: { modules: ['billing'] }, overrides: { now: clock.now } });
  reminders = createReminders(t.app.loket, createPaymentLinks(t.app.loket));
  admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 50 }))).access_token);
  operator = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 10 }))).access_token);
  brand = code();
  const b = await call('POST', '/api/brands/', admin, { id_brand: brand, brand: 'Uji', pajak: 11, due_day: 10 });
  expect(b.statusCode, b.body).toBe(201);
  const p = await call('POST', '/api/paket_layanan/', admin, {
    id_brand: brand,
    nama_paket: 'Internet 50Mbps',
    kecepatan: 50,
    harga: 250_000,
  });
  pkg = p.json().id;
  full = await customerWithInvoice({ no_telp: '0812-3456-7001' });
  mailOnly = await customerWithInvoice({});
  phoneOnly = await customerWithInvoice({ email: null, no_telp: '+62 812 3456 7003' });
  paid = await customerWithInvoice({ no_telp: '081234567004' });
  cancelled = await customerWithInvoice({ no_telp: '081234567005' });
  for (const c of [full, mailOnly, phoneOnly, paid, cancelled]) {
    await until(async () => (await linkOf(c.invoice.id)) !== null);
  }
  expect((await call('POST', `/api/invoices/${paid.invoice.id}/mark-as-paid`, operator, {})).statusCode).toBe(200);
  expect((await call('DELETE', `/api/invoices/${cancelled.invoice.id}`, operator)).statusCode).toBe(204);
});
afterAll(async () => t?.close());

describe('billing reminders', () => {
  it('H-3: e-mail and WhatsApp in Indonesian with number, amount, due date and link; none for paid or cancelled', async () => {
    // 250,000 + 11 % PPN = 277,500.
    expect(full.invoice.total_harga).toBe(277_500);
    expect(full.invoice.tanggal_jatuh_tempo).toBe('2027-03-10');
    // Once through the job queue, as the schedule runs it.
    await t.app.loket.jobs.enqueue(t.app.loket.database.db, REMINDER_JOB, {});
    await until(async () => (await outbox(full.customer.email as string)).length === 1);

    const link = await linkOf(full.invoice.id);
    const [mail] = await outbox(full.customer.email as string, 'email');
    expect(mail?.subject).toBe(`Pengingat tagihan ${full.invoice.nomor_invoice}: jatuh tempo 10 Maret 2027`);
    expect(mail?.body).toBe(
      [
        `Yth. ${full.customer.nama},`,
        '',
        `Tagihan internet Anda ${full.invoice.nomor_invoice} periode Maret 2027 sebesar Rp277.500 jatuh tempo dalam 3 hari, pada 10 Maret 2027.`,
        `Silakan bayar melalui tautan berikut: ${link}`,
        '',
        'Abaikan pesan ini bila Anda sudah membayar. Terima kasih.',
      ].join('\n'),
    );
    const [wa] = await outbox('6281234567001', 'whatsapp');
    expect(wa?.body).toBe(
      `Yth. ${full.customer.nama}, tagihan ${full.invoice.nomor_invoice} sebesar Rp277.500 jatuh tempo dalam 3 hari, pada 10 Maret 2027. Bayar: ${link}`,
    );
    await until(async () => (await outbox(mailOnly.customer.email as string, 'email')).length === 1);
    await until(async () => (await outbox('6281234567003', 'whatsapp')).length === 1);
    expect(await outbox('6281234567004')).toEqual([]);
    expect(await outbox(paid.customer.email as string)).toEqual([]);
    expect(await outbox('6281234567005')).toEqual([]);
    expect(await outbox(cancelled.customer.email as string)).toEqual([]);
    // No SMS besides the WhatsApp message.
    expect(await outbox('6281234567001', 'sms')).toEqual([]);
    expect(await outbox('081234567001')).toEqual([]);
  });

  it('runs again the same day, and two runs at once, send nothing twice; the day after, nothing is due', async () => {
    const again = await Promise.all([reminders.run(), reminders.run()]);
    expect(again.map((r) => r.sent)).toEqual([0, 0]);
    at('2027-03-08T05:00:00Z'); // 12:00 WIB, two days before: the H-3 reminder was sent already
    expect(await reminders.run()).toEqual({ sent: 0, messages: 0, withoutLink: 0 });
    expect(await outbox(full.customer.email as string)).toHaveLength(1);
  });

  it('H-1 and H0: once each, racing runs included; the due-day text says today', async () => {
    at('2027-03-09T01:00:00Z'); // 08:00 WIB, one day before
    const [a, b] = await Promise.all([reminders.run(), reminders.run()]);
    // Three invoices are payable: one recorded reminder each, whichever run recorded it.
    expect(a.sent + b.sent).toBe(3);
    // full: e-mail + WhatsApp; mailOnly: e-mail; phoneOnly: WhatsApp.
    expect(a.messages + b.messages).toBe(4);
    const mails = await outbox(full.customer.email as string, 'email');
    expect(mails.map((m) => m.subject)).toEqual([
      `Pengingat tagihan ${full.invoice.nomor_invoice}: jatuh tempo 10 Maret 2027`,
      `Pengingat tagihan ${full.invoice.nomor_invoice}: jatuh tempo 10 Maret 2027`,
    ]);
    expect(mails[0]?.body).toContain('jatuh tempo dalam 1 hari, pada 10 Maret 2027');

    at('2027-03-09T16:59:00Z'); // 23:59 WIB, still the 9th
    expect((await reminders.run()).sent).toBe(0);
    at('2027-03-09T17:00:00Z'); // 00:00 WIB on the 10th: the due date
    const due = await reminders.run();
    expect(due).toEqual({ sent: 3, messages: 4, withoutLink: 0 });
    const [today] = await outbox(full.customer.email as string, 'email');
    expect(today?.subject).toBe(`Tagihan ${full.invoice.nomor_invoice} jatuh tempo hari ini`);
    expect(today?.body).toContain('sebesar Rp277.500 jatuh tempo hari ini, 10 Maret 2027.');
    expect(await outbox('6281234567003', 'whatsapp')).toHaveLength(3);
    expect(await outbox(mailOnly.customer.email as string)).toHaveLength(3);
    expect(await outbox(paid.customer.email as string)).toEqual([]);
    expect((await reminders.run()).sent).toBe(0);

    const kinds = await t.app.loket.database.db
      .selectFrom('billing_reminders')
      .select('kind')
      .where('invoice_id', '=', full.invoice.id)
      .orderBy('sent_at')
      .execute();
    expect(kinds.map((k) => k.kind)).toEqual(['H-3', 'H-1', 'H0']);
  });

  it('the day after the due date the daily job marks unpaid invoices Jatuh Tempo; paid and cancelled stay; no more reminders', async () => {
    at('2027-03-10T16:00:00Z'); // 23:00 WIB on the due date: not overdue yet
    expect(await markOverdue(t.app.loket.database.db, jakartaDate(clock.now()), clock.now())).toBe(0);
    expect(await statusOf(full.invoice.id)).toBe('Menunggu Pembayaran');
    const generation = createGeneration(t.app.loket);
    at('2027-03-11T01:00:00Z'); // 08:00 WIB the day after
    const run = await generation.daily();
    expect(run.overdue).toBe(3);
    for (const c of [full, mailOnly, phoneOnly]) expect(await statusOf(c.invoice.id)).toBe('Jatuh Tempo');
    expect(await statusOf(paid.invoice.id)).toBe('Lunas');
    expect(await statusOf(cancelled.invoice.id)).toBe('Dibatalkan');
    expect((await generation.daily()).overdue).toBe(0);
    expect((await reminders.run()).sent).toBe(0);
    expect(await outbox(full.customer.email as string)).toHaveLength(3);
    expect(await audit(t.app.loket.database.db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  });

  it('an invoice whose payment link expired gets a new link before its reminder', async () => {
    at('2027-04-07T03:00:00Z');
    operator = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 10 }))).access_token);
    const c = await call('POST', '/api/pelanggan/', operator, {
      nama: `Pelanggan ${code()}`,
      email: `${code().toLowerCase()}@example.com`,
      paket_layanan_id: pkg,
    });
    const customer = c.json() as { id: number; email: string };
    const inv = (
      await call('POST', '/api/invoices/', operator, {
        pelanggan_id: customer.id,
        periode: '2027-04',
        items: [{ deskripsi: 'Internet 50Mbps 2027-04', jumlah: 1, harga: 250_000 }],
      })
    ).json() as { id: number; nomor_invoice: string };
    await until(async () => (await linkOf(inv.id)) !== null);
    const old = await linkOf(inv.id);
    await t.app.loket.database.db
      .updateTable('billing_invoices')
      .set({ payment_link_expires_at: new Date(clock.now().getTime() - 1000) })
      .where('id', '=', inv.id)
      .execute();
    const run = await reminders.run();
    expect(run.sent).toBe(1);
    const fresh = await linkOf(inv.id);
    expect(fresh).not.toBe(old);
    const [mail] = await outbox(customer.email, 'email');
    expect(mail?.body).toContain(`Silakan bayar melalui tautan berikut: ${fresh}`);
    expect(mail?.body).toContain(inv.nomor_invoice);
  });

  it('a customer installed after the due date gets this month prorated from the next daily run, once, and not again once cancelled', async () => {
    at('2027-05-16T00:30:00Z'); // 07:30 WIB, six days after May's due date (10): May's run is long over
    operator = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 10 }))).access_token);
    const installed = async (tgl: string) => {
      const res = await call('POST', '/api/pelanggan/', operator, {
        nama: `Pelanggan ${code()}`,
        email: `${code().toLowerCase()}@example.com`,
        paket_layanan_id: pkg,
        tanggal_instalasi: tgl,
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { id: number };
    };
    const fresh = await installed('2027-05-15');
    const earlier = await installed('2027-04-20'); // last month: not this run's business
    const invoicesOf = (pelangganId: number) =>
      t.app.loket.database.db
        .selectFrom('billing_invoices')
        .select(['id', 'periode', 'subtotal', 'status_invoice', 'tanggal_jatuh_tempo'])
        .where('pelanggan_id', '=', pelangganId)
        .execute();
    const generation = createGeneration(t.app.loket);
    at('2027-05-16T01:00:00Z'); // 08:00 WIB, the daily job
    await generation.daily();
    // 17 of May's 31 days (15th to 31st) of 250,000.
    expect(await invoicesOf(fresh.id)).toEqual([
      expect.objectContaining({
        periode: '2027-05',
        subtotal: Math.round((250_000 * 17) / 31),
        status_invoice: 'Menunggu Pembayaran',
      }),
    ]);
    expect(await invoicesOf(earlier.id)).toEqual([]);
    await generation.daily();
    expect(await invoicesOf(fresh.id)).toHaveLength(1);
    // Waived by an operator: the next day's run does not make it again.
    const [first] = await invoicesOf(fresh.id);
    expect((await call('DELETE', `/api/invoices/${first?.id}`, operator)).statusCode).toBe(204);
    at('2027-05-17T01:00:00Z');
    await generation.daily();
    await generation.daily();
    expect((await invoicesOf(fresh.id)).map((i) => i.status_invoice)).toEqual(['Dibatalkan']);
    expect(await audit(t.app.loket.database.db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  });
});
