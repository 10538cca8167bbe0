// Billing invoices as money: every change of an invoice is a journal in the ledger, a payment settles once whoever
// reports it first, and the ledger balances after any sequence of operations.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, balanceOf } from '../src/core/ledger/ledger.ts';
import { invoiceCallback } from '../src/core/payments/callbacks.ts';
import { proratedPrice, upcomingPeriod } from '../src/modules/billing/use-cases/generate.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';

let t: TestApp;
let admin: Record<string, string>;
let operator: Record<string, string>;
let viewer: Record<string, string>;
let brand: string;
let pkg: { id: number; harga: number };

const code = () => `B${randomBytes(3).toString('hex').toUpperCase()}`;
const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: object, payload?: object) =>
  t.app.inject({ method, url, headers: headers as Record<string, string>, payload });

async function until(check: () => Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function customer(extra: object = {}) {
  const res = await call('POST', '/api/pelanggan/', operator, {
    nama: `Pelanggan ${code()}`,
    email: `${code().toLowerCase()}@example.com`,
    paket_layanan_id: pkg.id,
    ...extra,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: number };
}

async function invoice(
  pelangganId: number,
  periode = '2027-01',
  items = [{ deskripsi: 'Internet 50Mbps', jumlah: 1, harga: 300_000 }],
) {
  const res = await call('POST', '/api/invoices/', operator, { pelanggan_id: pelangganId, periode, items });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const receivable = (pelangganId: number) => balanceOf(t.app.loket.database.db, `receivable:billing:${pelangganId}`);
const balanced = async () => {
  const a = await audit(t.app.loket.database.db);
  expect(a).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
};
const payViaSimulator = (reference: string) => t.app.inject({ method: 'POST', url: `/_dev/payments/${reference}/pay` });
/** The invoice's payment reference once its link job made it. */
async function linkOf(invoiceId: number): Promise<string> {
  await until(async () => (await call('GET', `/api/invoices/${invoiceId}`, viewer)).json().payment_link !== null);
  const row = await t.app.loket.database.db
    .selectFrom('billing_invoices')
    .select('payment_reference')
    .where('id', '=', invoiceId)
    .executeTakeFirstOrThrow();
  return row.payment_reference as string;
}
/** Waits until every accepted callback of `reference` has been processed. */
const settledDeliveries = (reference: string) =>
  until(async () => {
    const pending = await t.app.loket.database.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('reference', '=', reference)
      .where('outcome', '=', 'accepted')
      .where('processed_at', 'is', null)
      .executeTakeFirst();
    return pending === undefined;
  });

beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['billing'] } });
  admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 50 }))).access_token);
  operator = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 10 }))).access_token);
  viewer = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 1 }))).access_token);
  brand = code();
  expect(
    (await call('POST', '/api/brands/', admin, { id_brand: brand, brand: 'Uji', pajak: 11, due_day: 10 })).statusCode,
  ).toBe(201);
  const p = await call('POST', '/api/paket_layanan/', admin, {
    id_brand: brand,
    nama_paket: 'Internet 30Mbps',
    kecepatan: 30,
    harga: 300_000,
  });
  pkg = p.json();
});
afterAll(async () => t?.close());

describe('billing invoices', () => {
  it('issue posts the receivable with PPN; the Xendit payment link settles it once; repeated callbacks change nothing', async () => {
    const c = await customer();
    const inv = await invoice(c.id);
    expect(inv).toMatchObject({
      nomor_invoice: expect.stringMatching(/^INV-\d{4}-\d{3,}$/),
      invoice_number: inv.nomor_invoice,
      pelanggan_id: c.id,
      periode: '2027-01',
      tanggal_jatuh_tempo: '2027-01-10',
      subtotal: 300_000,
      ppn_percent: 11,
      ppn: 33_000,
      total_harga: 333_000,
      status_invoice: 'Menunggu Pembayaran',
    });
    expect(await receivable(c.id)).toBe(-333_000);
    await balanced();

    await until(async () => (await call('GET', `/api/invoices/${inv.id}`, viewer)).json().payment_link !== null);
    const withLink = (await call('GET', `/api/invoices/${inv.id}`, viewer)).json();
    expect(withLink.payment_link_status).toBe('Belum Dibayar');
    const ref = await t.app.loket.database.db
      .selectFrom('billing_invoices')
      .select('payment_reference')
      .where('id', '=', inv.id)
      .executeTakeFirstOrThrow();
    const paid = await payViaSimulator(ref.payment_reference as string);
    expect(paid.statusCode, paid.body).toBe(200);
    await until(async () => (await call('GET', `/api/invoices/${inv.id}`, viewer)).json().status_invoice === 'Lunas');
    const after = (await call('GET', `/api/invoices/${inv.id}`, viewer)).json();
    expect(after).toMatchObject({ status_invoice: 'Lunas', metode_pembayaran: 'Xendit', payment_link_status: 'Lunas' });
    expect(after.paid_at).toBeTruthy();
    expect(await receivable(c.id)).toBe(0);

    const again = await payViaSimulator(ref.payment_reference as string);
    expect(again.json().webhook.body).toMatchObject({ outcome: expect.stringMatching(/duplicate|accepted/) });
    expect(await receivable(c.id)).toBe(0);
    const journals = await t.app.loket.database.db
      .selectFrom('ledger_journals')
      .select('kind')
      .where('reference', '=', String(inv.id))
      .where('kind', 'like', 'billing.%')
      .execute();
    expect(journals.map((j) => j.kind).sort()).toEqual(['billing.invoice', 'billing.payment']);
    await balanced();
  });

  it('cancel reverses an unpaid invoice (204); a paid one is 409; statuses only move forward', async () => {
    const c = await customer();
    const inv = await invoice(c.id, '2026-10');
    const del = await call('DELETE', `/api/invoices/${inv.id}`, operator);
    expect(del.statusCode).toBe(204);
    expect(await receivable(c.id)).toBe(0);
    const again = await call('DELETE', `/api/invoices/${inv.id}`, operator);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error_code: 'CONFLICT', detail: expect.stringContaining('Dibatalkan') });

    // A cancelled period can be issued again; a live one cannot.
    const second = await invoice(c.id, '2026-10');
    expect(second.nomor_invoice).not.toBe(inv.nomor_invoice);
    const dup = await call('POST', '/api/invoices/', operator, {
      pelanggan_id: c.id,
      periode: '2026-10',
      items: [{ deskripsi: 'x', jumlah: 1, harga: 1 }],
    });
    expect(dup.statusCode).toBe(409);

    const cash = await call('POST', `/api/invoices/${second.id}/mark-as-paid`, operator, { metode_pembayaran: 'Cash' });
    expect(cash.statusCode, cash.body).toBe(200);
    expect(cash.json()).toMatchObject({ status_invoice: 'Lunas', metode_pembayaran: 'Cash' });
    expect((await call('DELETE', `/api/invoices/${second.id}`, operator)).statusCode).toBe(409);
    const back = await call('PATCH', `/api/invoices/${second.id}/status`, operator, {
      status_invoice: 'Menunggu Pembayaran',
    });
    expect(back.statusCode).toBe(409);
    expect((await call('POST', `/api/invoices/${second.id}/mark-as-paid`, operator, {})).statusCode).toBe(409);
    const log = await t.app.loket.database.db
      .selectFrom('activity_logs')
      .select(['action', 'account_id'])
      .where('object_id', '=', String(second.id))
      .where('action', 'like', 'billing.invoice.%')
      .orderBy('id')
      .execute();
    expect(log.map((l) => l.action)).toEqual(['billing.invoice.created', 'billing.invoice.paid']);
    await balanced();
  });

  it('a cash payment racing the Xendit callback settles once; a second payment is listed to refund, never lost', async () => {
    const c = await customer();
    const inv = await invoice(c.id, '2026-09');
    const payment_reference = await linkOf(inv.id);
    const [cash, xendit] = await Promise.all([
      call('POST', `/api/invoices/${inv.id}/mark-as-paid`, operator, { metode_pembayaran: 'Cash' }),
      payViaSimulator(payment_reference),
    ]);
    await until(async () => (await t.app.loket.payments.find(payment_reference))?.status !== 'PENDING');
    await settledDeliveries(payment_reference);
    const final = (await call('GET', `/api/invoices/${inv.id}`, viewer)).json();
    expect(final.status_invoice).toBe('Lunas');
    const payments = await t.app.loket.database.db
      .selectFrom('ledger_journals')
      .select('kind')
      .where('reference', '=', String(inv.id))
      .where('kind', '=', 'billing.payment')
      .execute();
    expect(payments).toHaveLength(1);
    expect(await receivable(c.id)).toBe(0);
    const late = (await call('GET', '/api/late-payments/?status=TO_REFUND', admin)).json().data as {
      payment_reference: string;
      amount: number;
      reason: string;
      nomor_invoice: string;
    }[];
    const owed = late.filter((l) => l.payment_reference === payment_reference);
    if (cash.statusCode !== 200) {
      // Xendit first: the operator's request was refused, nothing is owed.
      expect(cash.statusCode).toBe(409);
      expect(owed).toEqual([]);
    } else if (xendit.statusCode === 200) {
      // Cash first, and the link was paid before it could be closed: the Xendit money is owed back, listed once.
      expect(owed).toEqual([
        expect.objectContaining({ amount: 333_000, reason: 'after_settle', nomor_invoice: inv.nomor_invoice }),
      ]);
    } else {
      // Cash first, and the link was already closed: the page refused the payment.
      expect(xendit.statusCode).toBe(409);
      expect(owed).toEqual([]);
    }
    await balanced();
  });

  it('paid in cash or cancelled: the Xendit link is closed, the page refuses it; money that came anyway is owed back once', async () => {
    const c = await customer();
    // Paid in cash: the link stops taking money.
    const paid = await invoice(c.id, '2026-06');
    const paidRef = await linkOf(paid.id);
    expect((await call('POST', `/api/invoices/${paid.id}/mark-as-paid`, operator, {})).statusCode).toBe(200);
    await until(async () => (await t.app.loket.payments.find(paidRef))?.status === 'EXPIRED');
    const refused = await payViaSimulator(paidRef);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toContain('can no longer be paid');
    // Cancelled: the same.
    const cancelled = await invoice(c.id, '2026-07');
    const cancelledRef = await linkOf(cancelled.id);
    expect((await call('DELETE', `/api/invoices/${cancelled.id}`, operator)).statusCode).toBe(204);
    await until(async () => (await t.app.loket.payments.find(cancelledRef))?.status === 'EXPIRED');
    expect((await payViaSimulator(cancelledRef)).statusCode).toBe(409);
    expect((await call('GET', `/api/invoices/${cancelled.id}`, viewer)).json().status_invoice).toBe('Dibatalkan');

    // A payment Xendit took just before the link was closed (its callback arrives afterwards): owed back, once.
    const intent = await t.app.loket.payments.find(paidRef);
    const callback = invoiceCallback({
      providerId: intent?.provider_id as string,
      reference: paidRef,
      amount: paid.total_harga,
      status: 'PAID',
      paidAt: new Date(),
    });
    for (let i = 0; i < 2; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/webhooks/xendit',
        headers: { 'x-callback-token': t.config.xenditCallbackToken ?? '' },
        payload: callback,
      });
      expect(res.statusCode, res.body).toBeLessThan(300);
    }
    await settledDeliveries(paidRef);
    const late = (await call('GET', '/api/late-payments/', admin)).json();
    const mine = late.data.filter((l: { payment_reference: string }) => l.payment_reference === paidRef);
    expect(mine).toEqual([
      expect.objectContaining({
        amount: paid.total_harga,
        reason: 'after_cancel',
        status: 'TO_REFUND',
        invoice_id: paid.id,
        nomor_invoice: paid.nomor_invoice,
        pelanggan_id: c.id,
      }),
    ]);
    // The invoice stays paid once; the administrators were told; a viewer cannot see the list.
    expect((await call('GET', `/api/invoices/${paid.id}`, viewer)).json().metode_pembayaran).toBe('Tunai');
    const note = (await call('GET', '/api/notifications/', admin))
      .json()
      .data.find((n: { type: string }) => n.type === 'late_payment');
    expect(note?.message).toContain(paid.nomor_invoice);
    expect((await call('GET', '/api/late-payments/', operator)).statusCode).toBe(403);
    // Refunded by hand: marked once, and the ledger no longer owes it.
    const id = mine[0].id;
    const owedBefore = await balanceOf(t.app.loket.database.db, 'clearing:billing:late-refunds');
    const done = await call('POST', `/api/late-payments/${id}/refunded`, admin);
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ status: 'REFUNDED', nomor_invoice: paid.nomor_invoice });
    expect((await call('POST', `/api/late-payments/${id}/refunded`, admin)).statusCode).toBe(409);
    // Another module's or no late payment: 404 in billing's envelope; a bad filter: 422; nothing changes.
    const missing = await call('POST', '/api/late-payments/2147483647/refunded', admin);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ status: 'error', error_code: 'NOT_FOUND', detail: expect.any(String) });
    expect((await call('GET', '/api/late-payments/?status=PAID', admin)).statusCode).toBe(422);
    expect(await balanceOf(t.app.loket.database.db, 'clearing:billing:late-refunds')).toBe(
      owedBefore - paid.total_harga,
    );
    await balanced();
  });

  it('generation: once per customer and period, prorated in the month of installation, and again creates nothing', async () => {
    const full = await customer({ tgl_instalasi: '2026-01-05' });
    const fresh = await customer({ tgl_instalasi: '2026-12-16' });
    const later = await customer({ tgl_instalasi: '2027-02-01' });
    const first = await call('POST', '/api/invoices/generate', operator, { periode: '2026-12' });
    expect(first.statusCode, first.body).toBe(200);
    const made = first.json();
    const byCustomer = (id: number) => made.created.find((x: { pelanggan_id: number }) => x.pelanggan_id === id);
    expect(byCustomer(full.id)?.total_harga).toBe(333_000);
    // 16 of 31 days: 300,000 × 16 / 31 = 154,839, plus 11 % PPN.
    expect(byCustomer(fresh.id)?.total_harga).toBe(154_839 + Math.round(154_839 * 0.11));
    expect(byCustomer(later.id)).toBeUndefined();
    expect(made.skipped).toContainEqual({ pelanggan_id: later.id, reason: 'installed after this period' });
    const second = (await call('POST', '/api/invoices/generate', operator, { periode: '2026-12' })).json();
    expect(
      second.created.filter((x: { pelanggan_id: number }) => [full.id, fresh.id].includes(x.pelanggan_id)),
    ).toEqual([]);
    const one = await call('POST', '/api/invoices/generate', operator, { langganan_id: full.id, periode: '2026-12' });
    expect(one.statusCode, one.body).toBe(409);
    expect(one.json().detail).toBe('Invoice untuk periode ini (2026-12) sudah ada.');
    const notYet = await call('POST', '/api/invoices/generate', operator, {
      langganan_id: later.id,
      periode: '2026-12',
    });
    expect(notYet.statusCode, notYet.body).toBe(409);
    expect(notYet.json().detail).toContain('setelah periode 2026-12');
    await balanced();
  });

  it("lists as bare arrays with X-Total-Count and the frontend's filter words; count is a number; 401/403/404/422", async () => {
    const c = await customer();
    const inv = await invoice(c.id, '2026-08');
    const list = await call('GET', `/api/invoices/?pelanggan_id=${c.id}&status_invoice=Belum%20Dibayar`, viewer);
    expect(list.statusCode).toBe(200);
    expect(list.json().map((x: { id: number }) => x.id)).toEqual([inv.id]);
    expect(list.headers['x-total-count']).toBe('1');
    const count = await call('GET', `/api/invoices/count?pelanggan_id=${c.id}`, viewer);
    expect(count.json()).toBe(1);
    expect((await call('GET', '/api/invoices/?status_invoice=Nope', viewer)).statusCode).toBe(422);
    expect((await call('GET', '/api/invoices/', {})).statusCode).toBe(401);
    expect(
      (await call('POST', '/api/invoices/', viewer, { pelanggan_id: c.id, periode: '2026-07', items: [] })).statusCode,
    ).toBe(403);
    expect((await call('GET', '/api/invoices/999999', viewer)).statusCode).toBe(404);
    for (const body of [
      { pelanggan_id: c.id, periode: '2026-13', items: [{ deskripsi: 'x', jumlah: 1, harga: 1 }] },
      { pelanggan_id: c.id, periode: '2026-07', items: [] },
      { pelanggan_id: c.id, periode: '2026-07', items: [{ deskripsi: 'x', jumlah: 0, harga: 1 }] },
      { pelanggan_id: 999_999, periode: '2026-07', items: [{ deskripsi: 'x', jumlah: 1, harga: 1 }] },
    ]) {
      const res = await call('POST', '/api/invoices/', operator, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
    }
  });
});

describe('deleting a customer', () => {
  it('cancels its open invoices (receivable reversed) and keeps the paid ones', async () => {
    const c = await customer();
    const paid = await invoice(c.id, '2027-02');
    expect((await call('POST', `/api/invoices/${paid.id}/mark-as-paid`, operator, {})).statusCode).toBe(200);
    const open = await invoice(c.id, '2027-03');
    expect(await receivable(c.id)).toBe(-open.total_harga);
    expect((await call('DELETE', `/api/pelanggan/${c.id}`, admin)).statusCode).toBe(204);
    expect((await call('GET', `/api/invoices/${open.id}`, viewer)).json().status_invoice).toBe('Dibatalkan');
    expect((await call('GET', `/api/invoices/${paid.id}`, viewer)).json().status_invoice).toBe('Lunas');
    expect(await receivable(c.id)).toBe(0);
    await balanced();
  });
});

describe('billing schedule arithmetic', () => {
  it('prorates by days and finds the period whose due date is within the lead days', () => {
    expect(proratedPrice(300_000, '2026-12', '2026-12-01')).toBe(300_000);
    expect(proratedPrice(300_000, '2026-12', '2026-11-30')).toBe(300_000);
    expect(proratedPrice(310_000, '2026-12', '2026-12-31')).toBe(10_000);
    expect(proratedPrice(300_000, '2026-12', '2027-01-01')).toBe(0);
    expect(upcomingPeriod('2026-12-04', 10, 5)).toBeUndefined();
    expect(upcomingPeriod('2026-12-05', 10, 5)).toBe('2026-12');
    expect(upcomingPeriod('2026-12-10', 10, 5)).toBe('2026-12');
    expect(upcomingPeriod('2026-12-28', 2, 5)).toBe('2027-01');
  });
});
