// Per-brand Xendit accounts (CONTRACTS §4): a brand whose XENDIT_API_KEY_<NAME> is configured gets its payment links
// from its own Xendit business; its callbacks are accepted only with that business's token; a brand without one uses
// the platform's account. An expired link is replaced on request, and a cash payment racing Xendit's callback
// settles once. Loket talks to a fake Xendit serving two businesses over real HTTP.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, balanceOf } from '../src/core/ledger/ledger.ts';
import { type FakeXendit, startFakeXendit } from './fakes/xendit.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { freePort } from './helpers/net.ts';
import { until } from './helpers/until.ts';

const JAKINET = {
  secretKey: 'xnd_development_jakinetOwnKey000000000000000000==',
  callbackToken: 'jakinet-callback-token',
};

const clock = fakeClock();
let fake: FakeXendit;
let t: TestApp;
let base: string;
let adminAccount: { id: number; email: string; password: string };
let admin: Record<string, string>;
let operatorAccount: { id: number; email: string; password: string };
let operator: Record<string, string>;
let viewerAccount: { id: number; email: string; password: string };
let viewer: Record<string, string>;
let ownBrand: string; // has its own Xendit account
let plainBrand: string; // uses the platform's
const pkgOf: Record<string, number> = {};

const code = () => `X${randomBytes(3).toString('hex').toUpperCase()}`;
const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: object, payload?: object) =>
  t.app.inject({ method, url, headers: headers as Record<string, string>, payload });
const db = () => t.app.loket.database.db;

async function invoiceOf(brand: string, periode: string) {
  const c = await call('POST', '/api/pelanggan/', operator, {
    nama: `Pelanggan ${code()}`,
    email: `${code().toLowerCase()}@example.com`,
    paket_layanan_id: pkgOf[brand],
  });
  expect(c.statusCode, c.body).toBe(201);
  const inv = await call('POST', '/api/invoices/', operator, {
    pelanggan_id: c.json().id,
    periode,
    items: [{ deskripsi: 'Internet', jumlah: 1, harga: 200_000 }],
  });
  expect(inv.statusCode, inv.body).toBe(201);
  const created = inv.json() as { id: number; pelanggan_id: number; total_harga: number };
  await until(async () => (await linkRow(created.id)).payment_link !== null);
  return created;
}

const linkRow = (id: number) =>
  db()
    .selectFrom('billing_invoices')
    .select(['payment_link', 'payment_reference', 'status_invoice', 'paid_by', 'metode_pembayaran'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
const intentOf = async (reference: string | null) => {
  const intent = await t.app.loket.payments.find(reference ?? '');
  if (!intent) throw new Error(`no payment ${reference}`);
  return intent;
};
const webhook = (token: string | undefined, body: object) =>
  t.app.inject({
    method: 'POST',
    url: '/webhooks/xendit',
    headers: { 'content-type': 'application/json', ...(token ? { 'x-callback-token': token } : {}) },
    payload: body,
  });
const paidCallback = (reference: string, providerId: string, amount: number) => ({
  id: providerId,
  external_id: reference,
  status: 'PAID',
  amount,
  paid_amount: amount,
  currency: 'IDR',
  paid_at: new Date().toISOString(),
});
const balanced = async () => expect(await audit(db())).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
const settlements = async (invoiceId: number) =>
  (
    await db()
      .selectFrom('ledger_journals')
      .select('kind')
      .where('reference', '=', String(invoiceId))
      .where('kind', '=', 'billing.payment')
      .execute()
  ).length;

beforeAll(async () => {
  fake = await startFakeXendit({ businesses: [JAKINET] });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  ownBrand = code();
  plainBrand = code();
  const keyName = `K${ownBrand}`;
  t = await startTestApp({
    config: {
      modules: ['billing'],
      publicUrl: base,
      xenditSecretKey: fake.secretKey,
      xenditBaseUrl: fake.url,
      xenditCallbackToken: fake.callbackToken,
      xenditAccountKeys: { [keyName]: JAKINET.secretKey },
      xenditAccountTokens: { [keyName]: JAKINET.callbackToken },
      xenditTimeoutMs: 3000,
    },
    overrides: { now: clock.now },
  });
  await t.app.listen({ host: '127.0.0.1', port });
  fake.setCallbackUrl(`${base}/webhooks/xendit`);
  adminAccount = await makeAccount(t.app, { billing: 50 });
  admin = bearer((await tokensFor(t.app, adminAccount)).access_token);
  operatorAccount = await makeAccount(t.app, { billing: 10 });
  operator = bearer((await tokensFor(t.app, operatorAccount)).access_token);
  viewerAccount = await makeAccount(t.app, { billing: 1 });
  viewer = bearer((await tokensFor(t.app, viewerAccount)).access_token);
  for (const [brand, xendit_key_name] of [
    [ownBrand, keyName.toLowerCase()],
    [plainBrand, null],
  ] as const) {
    const b = await call('POST', '/api/brands/', admin, { id_brand: brand, brand: brand, pajak: 0, xendit_key_name });
    expect(b.statusCode, b.body).toBe(201);
    const p = await call('POST', '/api/paket_layanan/', admin, {
      id_brand: brand,
      nama_paket: 'Internet 20Mbps',
      kecepatan: 20,
      harga: 200_000,
    });
    pkgOf[brand] = p.json().id;
  }
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

describe('per-brand Xendit accounts', () => {
  it("a brand with its own key gets its link from its own Xendit business, and that business's callback settles it", async () => {
    const inv = await invoiceOf(ownBrand, '2027-01');
    const row = await linkRow(inv.id);
    const intent = await intentOf(row.payment_reference);
    expect(intent.account).toBe(`K${ownBrand}`);
    const atXendit = fake.invoices.get(intent.provider_id ?? '');
    expect(atXendit?.business.secretKey).toBe(JAKINET.secretKey);
    expect(row.payment_link).toBe(atXendit?.invoiceUrl);

    await fake.pay(row.payment_reference as string);
    expect(fake.callbacks.at(-1)).toMatchObject({
      status: 200,
      headers: { 'x-callback-token': JAKINET.callbackToken },
    });
    await until(async () => (await linkRow(inv.id)).status_invoice === 'Lunas');
    expect(await linkRow(inv.id)).toMatchObject({ metode_pembayaran: 'Xendit', paid_by: null });
    expect(await settlements(inv.id)).toBe(1);
    await balanced();
  });

  it("a brand without a key of its own uses the platform's account", async () => {
    const inv = await invoiceOf(plainBrand, '2027-01');
    const row = await linkRow(inv.id);
    const intent = await intentOf(row.payment_reference);
    expect(intent.account).toBeNull();
    expect(fake.invoices.get(intent.provider_id ?? '')?.business.secretKey).toBe(fake.secretKey);
    await fake.pay(row.payment_reference as string);
    await until(async () => (await linkRow(inv.id)).status_invoice === 'Lunas');
    await balanced();
  });

  it("a callback is refused with another account's token (403), without a token (401); nothing changes", async () => {
    const own = await invoiceOf(ownBrand, '2027-02');
    const plain = await invoiceOf(plainBrand, '2027-02');
    const ownIntent = await intentOf((await linkRow(own.id)).payment_reference);
    const plainIntent = await intentOf((await linkRow(plain.id)).payment_reference);
    const forged = [
      // The platform's token for a payment of the brand's account, and the reverse.
      [fake.callbackToken, ownIntent, 403],
      [JAKINET.callbackToken, plainIntent, 403],
      ['not-a-token', ownIntent, 403],
      [undefined, ownIntent, 401],
    ] as const;
    for (const [token, intent, status] of forged) {
      const res = await webhook(token, paidCallback(intent.reference, intent.provider_id ?? '', intent.amount));
      expect(res.statusCode, res.body).toBe(status);
    }
    const delivered = await db()
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('reference', 'in', [ownIntent.reference, plainIntent.reference])
      .execute();
    expect(delivered).toEqual([]);
    expect((await intentOf(ownIntent.reference)).status).toBe('PENDING');
    expect((await linkRow(own.id)).status_invoice).toBe('Menunggu Pembayaran');
    expect((await linkRow(plain.id)).status_invoice).toBe('Menunggu Pembayaran');

    // The right token is accepted.
    const ok = await webhook(
      JAKINET.callbackToken,
      paidCallback(ownIntent.reference, ownIntent.provider_id ?? '', ownIntent.amount),
    );
    expect(ok.statusCode, ok.body).toBe(200);
    await until(async () => (await linkRow(own.id)).status_invoice === 'Lunas');
    await balanced();
  });

  it('POST /api/invoices/{id}/payment-link makes a new link at the brand account once the old one expired', async () => {
    const inv = await invoiceOf(ownBrand, '2027-03');
    const before = await linkRow(inv.id);
    clock.advance(31 * 24 * 3600 * 1000); // links last 30 days
    // Tokens issued before the jump have expired.
    operator = bearer((await tokensFor(t.app, operatorAccount)).access_token);
    viewer = bearer((await tokensFor(t.app, viewerAccount)).access_token);
    admin = bearer((await tokensFor(t.app, adminAccount)).access_token);
    const shown = await call('GET', `/api/invoices/${inv.id}`, viewer);
    expect(shown.json().payment_link_status).toBe('Expired');
    const renewed = await call('POST', `/api/invoices/${inv.id}/payment-link`, operator);
    expect(renewed.statusCode, renewed.body).toBe(200);
    expect(renewed.json()).toMatchObject({ payment_link_status: 'Belum Dibayar' });
    const after = await linkRow(inv.id);
    expect(after.payment_reference).not.toBe(before.payment_reference);
    expect(after.payment_link).not.toBe(before.payment_link);
    const intent = await intentOf(after.payment_reference);
    expect(intent.account).toBe(`K${ownBrand}`);
    expect(fake.invoices.get(intent.provider_id ?? '')?.business.secretKey).toBe(JAKINET.secretKey);
    await fake.pay(after.payment_reference as string);
    await until(async () => (await linkRow(inv.id)).status_invoice === 'Lunas');
    // A paid invoice gets no new link.
    expect((await call('POST', `/api/invoices/${inv.id}/payment-link`, operator)).statusCode).toBe(409);
    await balanced();
  });

  it('a cash payment (PATCH status Lunas, Tunai) racing the Xendit callback settles exactly once', async () => {
    const inv = await invoiceOf(ownBrand, '2027-04');
    const row = await linkRow(inv.id);
    const [cash] = await Promise.all([
      call('PATCH', `/api/invoices/${inv.id}/status`, operator, {
        status_invoice: 'Lunas',
        metode_pembayaran: 'Tunai',
      }),
      fake.pay(row.payment_reference as string),
    ]);
    await until(async () => (await intentOf(row.payment_reference)).status !== 'PENDING');
    await until(async () => {
      const open = await db()
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('reference', '=', row.payment_reference)
        .where('processed_at', 'is', null)
        .executeTakeFirst();
      return open === undefined;
    });
    const final = await linkRow(inv.id);
    expect(final.status_invoice).toBe('Lunas');
    expect(await settlements(inv.id)).toBe(1);
    expect(await balanceOf(db(), `receivable:billing:${inv.pelanggan_id}`)).toBe(0);
    const owed = (await call('GET', '/api/late-payments/', admin))
      .json()
      .data.filter((l: { payment_reference: string }) => l.payment_reference === row.payment_reference);
    if (cash.statusCode === 200) {
      // Cash first: recorded with the operator who took it; the Xendit money (paid before the link could be
      // closed) is listed for the administrators to refund.
      expect(final).toMatchObject({ metode_pembayaran: 'Tunai', paid_by: operatorAccount.id });
      // (Had the link been closed before Xendit took the money, Xendit would have refused it: nothing owed.)
      const paidAtXendit = (await intentOf(row.payment_reference)).status === 'COMPLETED';
      expect(owed).toEqual(
        paidAtXendit ? [expect.objectContaining({ amount: 200_000, reason: 'after_settle', status: 'TO_REFUND' })] : [],
      );
    } else {
      expect(cash.statusCode).toBe(409);
      expect(final).toMatchObject({ metode_pembayaran: 'Xendit', paid_by: null });
      expect(owed).toEqual([]);
    }
    await balanced();
  });

  it('a cash payment alone records who took it, once; a second is 409 and a viewer may not', async () => {
    const inv = await invoiceOf(plainBrand, '2027-05');
    const body = { status_invoice: 'Lunas', metode_pembayaran: 'Tunai' };
    expect((await call('PATCH', `/api/invoices/${inv.id}/status`, {}, body)).statusCode).toBe(401);
    const refused = await call('PATCH', `/api/invoices/${inv.id}/status`, viewer, body);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ status: 'error', error_code: expect.any(String) });
    expect((await linkRow(inv.id)).status_invoice).toBe('Menunggu Pembayaran');
    const paid = await call('PATCH', `/api/invoices/${inv.id}/status`, operator, body);
    expect(paid.statusCode, paid.body).toBe(200);
    expect(paid.json()).toMatchObject({ status_invoice: 'Lunas', metode_pembayaran: 'Tunai' });
    expect(await linkRow(inv.id)).toMatchObject({ paid_by: operatorAccount.id });
    const again = await call('PATCH', `/api/invoices/${inv.id}/status`, operator, body);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ status: 'error', error_code: 'CONFLICT', detail: expect.any(String) });
    expect(await settlements(inv.id)).toBe(1);
    const log = await db()
      .selectFrom('activity_logs')
      .select(['action', 'account_id'])
      .where('object_id', '=', String(inv.id))
      .where('action', '=', 'billing.invoice.paid')
      .execute();
    expect(log).toEqual([{ action: 'billing.invoice.paid', account_id: operatorAccount.id }]);
    await balanced();
  });
});
