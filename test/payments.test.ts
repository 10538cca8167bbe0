import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformEnvelope } from '../src/core/http/envelopes.ts';
import { defineModule } from '../src/core/module.ts';
import { qrPaidCallback } from '../src/core/payments/callbacks.ts';
import { parseQris } from '../src/core/payments/qris.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { jobsSettled, quietPeriod, until } from './helpers/until.ts';

const clock = fakeClock();
const changes: { reference: string; status: string }[] = [];
const listenerModule = defineModule({
  name: 'paytest',
  envelope: platformEnvelope,
  prefixes: [],
  wire(core) {
    core.payments.register('paytest', async (_trx, intent) => {
      changes.push({ reference: intent.reference, status: intent.status });
    });
  },
  routes() {},
});

let t: TestApp;
beforeAll(async () => {
  // The webhook answers in the envelope of the module that declares its paths: photobox's, as deployed.
  t = await startTestApp({
    config: { modules: ['photobox'] },
    overrides: { extraModules: [listenerModule], now: clock.now },
  });
});
afterAll(async () => t?.close());

const ref = () => `TRX-9-${randomBytes(4).toString('hex').toUpperCase()}`;
const token = () => ({ 'x-callback-token': t.config.xenditCallbackToken as string });
const newQr = (amount = 40_000, ttlMs = 15 * 60_000) =>
  t.app.loket.payments.createQr({ module: 'paytest', reference: ref(), amount, ttlMs });
const changesOf = (reference: string) => changes.filter((c) => c.reference === reference);

const statusOf = async (reference: string) => (await t.app.loket.payments.find(reference))?.status;

describe('simulator QR payments', () => {
  it('issue a valid dynamic QRIS string with the amount, and a PNG of it', async () => {
    const intent = await newQr(40_000);
    expect(intent.status).toBe('PENDING');
    const parsed = parseQris(intent.qr_string as string);
    expect(parsed).toMatchObject({
      valid: true,
      pointOfInitiation: 'dynamic',
      amount: 40_000,
      currency: '360',
      countryCode: 'ID',
    });
    expect(parsed.merchantAccounts.map((m) => m.globalId)).toContain('ID.CO.QRIS.WWW');
    const png = await t.app.inject({ method: 'GET', url: `/payments/${intent.reference}/qr.png` });
    expect(png.statusCode).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.rawPayload.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect((await t.app.inject({ method: 'GET', url: '/payments/NOPE/qr.png' })).statusCode).toBe(404);
  });

  it("the dev pay route sends Xendit's callback through the real webhook and the payment completes once", async () => {
    const intent = await newQr(25_000);
    const res = await t.app.inject({ method: 'POST', url: `/_dev/payments/${intent.reference}/pay` });
    expect(res.statusCode).toBe(200);
    expect(res.json().webhook).toMatchObject({ status: 200, body: { success: true, data: { outcome: 'accepted' } } });
    await until(async () => (await statusOf(intent.reference)) === 'COMPLETED');
    const after = await t.app.loket.payments.find(intent.reference);
    expect(after?.paid_at).toBeTruthy();
    expect(changesOf(intent.reference)).toEqual([{ reference: intent.reference, status: 'COMPLETED' }]);
  });
});

describe('webhook intake', () => {
  const post = (body: unknown, headers: Record<string, string> = token()) =>
    t.app.inject({ method: 'POST', url: '/api/v1/webhooks/xendit', headers, payload: body as object });

  it('checks x-callback-token: 401 missing, 403 wrong; nothing changes', async () => {
    const intent = await newQr();
    const body = { external_id: intent.reference, status: 'COMPLETED', xendit_id: 'qr_x' };
    const missing = await post(body, {});
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({ success: false, data: null });
    const wrong = await post(body, { 'x-callback-token': 'guess' });
    expect(wrong.statusCode).toBe(403);
    const alias = await t.app.inject({ method: 'POST', url: '/webhooks/xendit', payload: body });
    expect(alias.statusCode).toBe(401);
    await jobsSettled(t.app);
    expect(await statusOf(intent.reference)).toBe('PENDING');
  });

  it('refuses a wrong amount and records the delivery; nothing changes', async () => {
    const intent = await newQr(40_000);
    const body = qrPaidCallback('v2', {
      providerId: intent.provider_id as string,
      reference: intent.reference,
      amount: 4_000,
      qrString: intent.qr_string as string,
      paymentId: 'qrpy_wrong',
      paidAt: new Date(),
    });
    const res = await post(body);
    expect(res.statusCode).toBe(422);
    await jobsSettled(t.app);
    expect(await statusOf(intent.reference)).toBe('PENDING');
    const rows = await t.app.loket.database.db
      .selectFrom('webhook_deliveries')
      .select(['outcome', 'amount'])
      .where('reference', '=', intent.reference)
      .execute();
    expect(rows).toEqual([{ outcome: 'amount_mismatch', amount: 4_000 }]);
  });

  it('answers 404 for an unknown reference and 400 for a body it does not recognise', async () => {
    expect((await post({ external_id: 'NO-SUCH', status: 'COMPLETED', xendit_id: 'x' })).statusCode).toBe(404);
    expect((await post({ hello: 'world' })).statusCode).toBe(400);
  });

  it('accepts the flat Photobox body, Xendit QR v1, v2 and invoice callbacks', async () => {
    const a = await newQr(10_000);
    const b = await newQr(11_000);
    const c = await newQr(12_000);
    const inv = await t.app.loket.payments.createInvoice({
      module: 'paytest',
      reference: ref(),
      amount: 13_000,
      description: 'Tagihan',
      ttlSeconds: 3600,
    });
    expect((await post({ external_id: a.reference, status: 'COMPLETED', xendit_id: 'qr_flat' })).statusCode).toBe(200);
    const v1 = qrPaidCallback('v1', {
      providerId: b.provider_id as string,
      reference: b.reference,
      amount: 11_000,
      qrString: b.qr_string as string,
      paymentId: 'qrpy_v1',
      paidAt: new Date(),
    });
    expect((await post(v1)).statusCode).toBe(200);
    const v2 = qrPaidCallback('v2', {
      providerId: c.provider_id as string,
      reference: c.reference,
      amount: 12_000,
      qrString: c.qr_string as string,
      paymentId: 'qrpy_v2',
      paidAt: new Date(),
    });
    expect((await post(v2, { ...token(), 'webhook-id': 'wh-v2-1' })).statusCode).toBe(200);
    const invoicePaid = {
      id: inv.provider_id,
      external_id: inv.reference,
      user_id: 'u',
      status: 'PAID',
      amount: 13_000,
      paid_amount: 13_000,
      paid_at: new Date().toISOString(),
    };
    expect((await post(invoicePaid)).statusCode).toBe(200);
    for (const r of [a, b, c, inv]) await until(async () => (await statusOf(r.reference)) === 'COMPLETED');
  });

  it('seven deliveries of one payment, shuffled, with a late EXPIRED: exactly one state change', async () => {
    const intent = await newQr(40_000);
    const paid = qrPaidCallback('v2', {
      providerId: intent.provider_id as string,
      reference: intent.reference,
      amount: 40_000,
      qrString: intent.qr_string as string,
      paymentId: 'qrpy_seven',
      paidAt: new Date(),
    });
    const flat = { external_id: intent.reference, status: 'COMPLETED', xendit_id: 'qrpy_seven' };
    const expired = { external_id: intent.reference, status: 'EXPIRED', xendit_id: 'qrpy_seven' };
    const deliveries: [unknown, Record<string, string>][] = [
      [paid, { ...token(), 'webhook-id': 'wh-seven' }],
      [paid, { ...token(), 'webhook-id': 'wh-seven' }],
      [flat, token()],
      [paid, { ...token(), 'webhook-id': 'wh-seven' }],
      [flat, token()],
      [paid, { ...token(), 'webhook-id': 'wh-seven' }],
    ];
    deliveries.sort(() => Math.random() - 0.5);
    deliveries.push([expired, token()]); // the late one
    const codes = await Promise.all(deliveries.map(([body, headers]) => post(body, headers).then((r) => r.statusCode)));
    expect(codes.every((c) => c === 200)).toBe(true);
    await until(async () => (await statusOf(intent.reference)) === 'COMPLETED');
    await until(async () => {
      const pending = await t.app.loket.database.db
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('reference', '=', intent.reference)
        .where('outcome', '=', 'accepted')
        .where('processed_at', 'is', null)
        .execute();
      return pending.length === 0;
    });
    expect(await statusOf(intent.reference)).toBe('COMPLETED');
    expect(changesOf(intent.reference)).toEqual([{ reference: intent.reference, status: 'COMPLETED' }]);
    const rows = await t.app.loket.database.db
      .selectFrom('webhook_deliveries')
      .select(['outcome'])
      .where('reference', '=', intent.reference)
      .execute();
    expect(rows).toHaveLength(7);
    expect(rows.filter((r) => r.outcome === 'duplicate').length).toBeGreaterThanOrEqual(4);
  });

  it('a delivery stored while no worker runs is processed when workers come back (nothing lost)', async () => {
    const intent = await newQr(15_000);
    await t.app.loket.jobs.stop(5000);
    try {
      const res = await post({ external_id: intent.reference, status: 'COMPLETED', xendit_id: 'qrpy_crash' });
      expect(res.statusCode).toBe(200);
      await quietPeriod(1500, 'no worker runs: the stored delivery must wait, unprocessed');
      expect(await statusOf(intent.reference)).toBe('PENDING');
    } finally {
      await t.app.loket.jobs.start();
    }
    await until(async () => (await statusOf(intent.reference)) === 'COMPLETED');
  });

  it('with no module declaring webhook paths, the core answers at /webhooks/xendit in the platform envelope', async () => {
    const bare = await startTestApp();
    try {
      const headers = { 'x-callback-token': bare.config.xenditCallbackToken as string };
      const unknown = await bare.app.inject({
        method: 'POST',
        url: '/webhooks/xendit',
        headers,
        payload: { external_id: 'NOPE-1', status: 'PAID', amount: 10_000, id: 'inv_1' },
      });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toMatchObject({ status: 'error', error_code: 'NOT_FOUND' });
      const intent = await bare.app.loket.payments.createQr({
        module: 'none',
        reference: ref(),
        amount: 10_000,
        ttlMs: 60_000,
      });
      const paid = await bare.app.inject({
        method: 'POST',
        url: '/webhooks/xendit',
        headers,
        payload: { external_id: intent.reference, status: 'PAID', amount: 10_000, paid_amount: 10_000, id: 'inv_2' },
      });
      expect(paid.statusCode).toBe(200);
      expect(paid.json()).toMatchObject({ outcome: 'accepted', external_id: intent.reference });
      // The photobox document's path belongs to that module: not mounted here.
      const other = await bare.app.inject({ method: 'POST', url: '/api/v1/webhooks/xendit', headers, payload: {} });
      expect(other.statusCode).toBe(404);
    } finally {
      await bare.close();
    }
  });

  it('503 when no callback token is configured', async () => {
    const bare = await startTestApp({ config: { modules: ['photobox'], xenditCallbackToken: undefined } });
    try {
      const res = await bare.app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/xendit',
        headers: { 'x-callback-token': 'anything' },
        payload: { external_id: 'X', status: 'COMPLETED', xendit_id: 'x' },
      });
      expect(res.statusCode).toBe(503);
    } finally {
      await bare.close();
    }
  });
});

describe('expiry', () => {
  it('a QR payment past expires_at becomes EXPIRED (fake clock); a late payment then changes nothing', async () => {
    const intent = await newQr(40_000, 15 * 60_000);
    clock.advance(14 * 60_000);
    await t.app.loket.payments.expireDue();
    expect(await statusOf(intent.reference)).toBe('PENDING');
    clock.advance(2 * 60_000);
    await t.app.loket.payments.expireDue();
    expect(await statusOf(intent.reference)).toBe('EXPIRED');
    expect(changesOf(intent.reference)).toEqual([{ reference: intent.reference, status: 'EXPIRED' }]);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/webhooks/xendit',
      headers: token(),
      payload: { external_id: intent.reference, status: 'COMPLETED', xendit_id: 'qrpy_late' },
    });
    expect(res.statusCode).toBe(200);
    await until(async () => {
      const row = await t.app.loket.database.db
        .selectFrom('webhook_deliveries')
        .select('result')
        .where('reference', '=', intent.reference)
        .where('outcome', '=', 'accepted')
        .executeTakeFirst();
      return Boolean(row?.result);
    });
    expect(await statusOf(intent.reference)).toBe('EXPIRED');
    const row = await t.app.loket.database.db
      .selectFrom('webhook_deliveries')
      .select('result')
      .where('reference', '=', intent.reference)
      .where('outcome', '=', 'accepted')
      .executeTakeFirstOrThrow();
    expect(row.result).toContain('late payment');
  });

  it("simulator invoices: hosted page, paid and expired through Xendit's invoice callbacks", async () => {
    const make = () =>
      t.app.loket.payments.createInvoice({
        module: 'paytest',
        reference: ref(),
        amount: 150_000,
        description: 'Internet',
        ttlSeconds: 86_400,
      });
    const inv = await make();
    expect(inv.invoice_url).toContain(`/_dev/payments/${inv.reference}/invoice`);
    const page = await t.app.inject({ method: 'GET', url: `/_dev/payments/${inv.reference}/invoice` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('150.000');
    await t.app.inject({ method: 'POST', url: `/_dev/payments/${inv.reference}/pay` });
    await until(async () => (await statusOf(inv.reference)) === 'COMPLETED');
    const other = await make();
    const exp = await t.app.inject({ method: 'POST', url: `/_dev/payments/${other.reference}/expire` });
    expect(exp.json().webhook.status).toBe(200);
    await until(async () => (await statusOf(other.reference)) === 'EXPIRED');
  });
});
