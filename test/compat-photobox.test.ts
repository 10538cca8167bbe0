// Issue 21, photobox findings 4 and 5: the kiosk's "Batal" (the QR closed, the transaction EXPIRED, refused once
// paid), payments that arrive too late (recorded to refund, the webhook answering 200, the ledger balanced, and a
// payment still PENDING in the database but past its expiry treated as late), and the status read answering
// EXPIRED from the instant `tr_expired_at` passes, not when the minute sweep runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, balanceOf } from '../src/core/ledger/ledger.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { pay, statusOf } from './helpers/photobox.ts';
import { until } from './helpers/until.ts';

const clock = fakeClock();
let t: TestApp;
let admin: Record<string, string>;
let kiosk: Record<string, string>;
let otherKiosk: Record<string, string>;
let reader: Record<string, string>;
let locationId: number;

beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['photobox'] }, overrides: { now: clock.now } });
  const token = async (level: number) =>
    bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: level }))).access_token);
  admin = await token(50);
  kiosk = await token(1);
  otherKiosk = await token(1);
  reader = await token(1);
  const loc = await t.app.inject({
    method: 'POST',
    url: '/api/v1/locations',
    headers: admin,
    payload: { ml_name: 'Mall Kelapa Gading', ml_address: 'Jl. Boulevard Raya' },
  });
  expect(loc.statusCode, loc.body).toBeLessThan(300);
  locationId = loc.json().data.ml_id;
});
afterAll(async () => t?.close());

async function newTransaction(headers = kiosk) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/transactions',
    headers,
    payload: { location_id: locationId },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as { tr_external_id: string; tr_amount: number; tr_xendit_id?: string };
}

const cancel = (externalId: string, headers: Record<string, string> = kiosk) =>
  t.app.inject({ method: 'POST', url: `/api/v1/transactions/${externalId}/cancel`, headers });

/** Xendit's QR v1 callback for a payment made with the code (what arrives when a customer paid late). */
async function paidCallback(externalId: string, amount: number, paymentId: string) {
  const intent = await t.app.loket.payments.find(externalId);
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/webhooks/xendit',
    headers: { 'x-callback-token': t.config.xenditCallbackToken as string },
    payload: {
      event: 'qr.payment',
      id: paymentId,
      amount,
      created: clock.now().toISOString(),
      qr_code: { id: intent?.provider_id, external_id: externalId, qr_string: intent?.qr_string, type: 'DYNAMIC' },
      status: 'COMPLETED',
    },
  });
}

async function processed(externalId: string) {
  return until(async () => {
    const row = await t.app.loket.database.db
      .selectFrom('webhook_deliveries')
      .select('result')
      .where('reference', '=', externalId)
      .where('outcome', '=', 'accepted')
      .executeTakeFirst();
    return row?.result ?? undefined;
  });
}

const lateList = async (query = '') => {
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/admin/late-payments${query}`, headers: admin });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { data: Record<string, unknown>[]; total: number };
};

async function ledgerBalanced() {
  const a = await audit(t.app.loket.database.db);
  expect(a).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
}

describe('cancel ("Batal", finding 4)', () => {
  it('closes the QR code and makes the transaction EXPIRED at once', async () => {
    const tr = await newTransaction();
    const res = await cancel(tr.tr_external_id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      success: true,
      data: { tr_external_id: tr.tr_external_id, tr_status: 'EXPIRED', tr_paid_at: null },
    });
    expect((await statusOf(t, tr.tr_external_id)).tr_status).toBe('EXPIRED');
    const intent = await t.app.loket.payments.find(tr.tr_external_id);
    expect(intent).toMatchObject({ status: 'EXPIRED', failure_reason: 'cancelled' });
    // Closed at the provider: the simulator's bank app can no longer pay it.
    const paid = await t.app.inject({ method: 'POST', url: `/_dev/payments/${tr.tr_external_id}/pay` });
    expect(paid.statusCode).toBe(409);
    // Cancelling again changes nothing and says so plainly.
    const again = await cancel(tr.tr_external_id);
    expect(again.statusCode).toBe(200);
    expect(again.json().data.tr_status).toBe('EXPIRED');
  });

  it('is refused with 409 once paid, and the transaction stays COMPLETED', async () => {
    const tr = await newTransaction();
    await pay(t, tr.tr_external_id);
    const res = await cancel(tr.tr_external_id);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      success: false,
      message: 'This transaction is already paid; it cannot be cancelled',
      data: null,
    });
    expect((await statusOf(t, tr.tr_external_id)).tr_status).toBe('COMPLETED');
  });

  it("needs the kiosk's credentials; another kiosk's transaction or an unknown one is 404", async () => {
    const tr = await newTransaction();
    expect((await cancel(tr.tr_external_id, {})).statusCode).toBe(401);
    const foreign = await cancel(tr.tr_external_id, otherKiosk);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toMatchObject({ success: false, message: 'Transaction not found', data: null });
    expect((await cancel('TRX-NOPE')).statusCode).toBe(404);
    expect((await statusOf(t, tr.tr_external_id)).tr_status).toBe('PENDING');
    // A photobox admin may cancel any transaction.
    expect((await cancel(tr.tr_external_id, admin)).statusCode).toBe(200);
  });
});

describe('late payments (finding 4)', () => {
  it('a payment after cancel answers 200, stays EXPIRED, is listed to refund, and the ledger balances', async () => {
    const tr = await newTransaction();
    expect((await cancel(tr.tr_external_id)).statusCode).toBe(200);
    const hook = await paidCallback(tr.tr_external_id, tr.tr_amount, 'qrpy_after_cancel');
    expect(hook.statusCode, hook.body).toBe(200);
    expect(await processed(tr.tr_external_id)).toMatch(/^late payment #\d+ to refund$/);
    expect((await statusOf(t, tr.tr_external_id)).tr_status).toBe('EXPIRED');

    const list = await lateList('?status=TO_REFUND');
    const row = list.data.find((r) => r.tr_external_id === tr.tr_external_id);
    expect(row).toMatchObject({
      amount: tr.tr_amount,
      reason: 'after_cancel',
      status: 'TO_REFUND',
      xendit_payment_id: 'qrpy_after_cancel',
      refunded_at: null,
    });
    const db = t.app.loket.database.db;
    const owed = await balanceOf(db, 'clearing:photobox:late-refunds');
    expect(owed).toBeGreaterThanOrEqual(tr.tr_amount);
    await ledgerBalanced();

    // The same callback again (Xendit retries) records nothing more.
    await paidCallback(tr.tr_external_id, tr.tr_amount, 'qrpy_after_cancel');
    expect((await lateList()).data.filter((r) => r.tr_external_id === tr.tr_external_id)).toHaveLength(1);

    const id = row?.id as number;
    const done = await t.app.inject({
      method: 'POST',
      url: `/api/v1/admin/late-payments/${id}/refunded`,
      headers: admin,
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().data).toMatchObject({ id, status: 'REFUNDED' });
    expect(done.json().data.refunded_at).toEqual(expect.any(String));
    expect(await balanceOf(db, 'clearing:photobox:late-refunds')).toBe(owed - tr.tr_amount);
    await ledgerBalanced();

    const twice = await t.app.inject({
      method: 'POST',
      url: `/api/v1/admin/late-payments/${id}/refunded`,
      headers: admin,
    });
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ success: false, data: null });
    expect(await balanceOf(db, 'clearing:photobox:late-refunds')).toBe(owed - tr.tr_amount);
    expect((await lateList('?status=REFUNDED')).data.map((r) => r.id)).toContain(id);
  });

  it('operators only: 401 without a token, 403 for a kiosk, 404 for an unknown id, 422 for a bad one', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/late-payments' })).statusCode).toBe(401);
    const refused = await t.app.inject({ method: 'GET', url: '/api/v1/admin/late-payments', headers: reader });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ success: false, data: null });
    const post = (id: string) =>
      t.app.inject({ method: 'POST', url: `/api/v1/admin/late-payments/${id}/refunded`, headers: admin });
    expect((await post('999999')).statusCode).toBe(404);
    expect((await post('abc')).statusCode).toBe(422);
    const bad = await t.app.inject({ method: 'GET', url: '/api/v1/admin/late-payments?status=PAID', headers: admin });
    expect(bad.statusCode).toBe(422);
  });

  it('a COMPLETED callback for a payment still PENDING but past expires_at (sweep not run) is late', async () => {
    const tr = await newTransaction();
    expect((await statusOf(t, tr.tr_external_id)).tr_status).toBe('PENDING');
    // Past its 15 minutes by the app's clock; the minute sweep has not run on it.
    clock.advance(15 * 60_000 + 1_000);
    expect((await t.app.loket.payments.find(tr.tr_external_id))?.status).toBe('PENDING');
    const hook = await paidCallback(tr.tr_external_id, tr.tr_amount, 'qrpy_past_expiry');
    expect(hook.statusCode, hook.body).toBe(200);
    expect(await processed(tr.tr_external_id)).toMatch(/^late payment #\d+ to refund$/);
    expect(await t.app.loket.payments.find(tr.tr_external_id)).toMatchObject({ status: 'EXPIRED', paid_at: null });
    const s = await statusOf(t, tr.tr_external_id);
    expect(s).toMatchObject({ tr_status: 'EXPIRED', tr_paid_at: null });
    const row = (await lateList()).data.find((r) => r.tr_external_id === tr.tr_external_id);
    expect(row).toMatchObject({ reason: 'after_expiry', status: 'TO_REFUND', amount: tr.tr_amount });
    await ledgerBalanced();
  });
});

describe('the status read (finding 5)', () => {
  it('answers EXPIRED from the instant tr_expired_at passes, before any sweep, and a payment then is late', async () => {
    const tr = await newTransaction();
    // Read (and cached) while PENDING, as a polling kiosk would.
    const before = await statusOf(t, tr.tr_external_id);
    expect(before.tr_status).toBe('PENDING');
    clock.advance(Date.parse(before.tr_expired_at as string) - clock.now().getTime() + 1_000);
    const after = await statusOf(t, tr.tr_external_id);
    expect(after).toMatchObject({ tr_status: 'EXPIRED', tr_paid_at: null });
    // Written through: the payment is expired too, so the two never disagree.
    expect((await t.app.loket.payments.find(tr.tr_external_id))?.status).toBe('EXPIRED');
    const hook = await paidCallback(tr.tr_external_id, tr.tr_amount, 'qrpy_after_read');
    expect(hook.statusCode).toBe(200);
    expect(await processed(tr.tr_external_id)).toMatch(/^late payment/);
    expect((await statusOf(t, tr.tr_external_id)).tr_status).toBe('EXPIRED');
  });
});

describe('timestamps with an offset (finding 13, CONTRACTS §6)', () => {
  it('photobox times are Asia/Jakarta local time with +07:00, the same instant', async () => {
    const tr = await newTransaction();
    const s = await statusOf(t, tr.tr_external_id);
    expect(s.tr_expired_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/);
    const intent = await t.app.loket.payments.find(tr.tr_external_id);
    expect(Date.parse(s.tr_expired_at as string)).toBe(
      Math.floor(new Date(intent?.expires_at ?? 0).getTime() / 1000) * 1000,
    );
  });

  it('localTime follows LOKET_TIMEZONE, offsets and DST included', async () => {
    const { localTime, useTimeZone, timeZone } = await import('../src/core/time.ts');
    const at = new Date('2026-12-05T07:03:11.900Z');
    expect(localTime(at)).toBe('2026-12-05T14:03:11+07:00');
    const before = timeZone();
    try {
      useTimeZone('Asia/Kolkata');
      expect(localTime(at)).toBe('2026-12-05T12:33:11+05:30');
      useTimeZone('America/New_York');
      expect(localTime(new Date('2026-07-01T12:00:00Z'))).toBe('2026-07-01T08:00:00-04:00');
      expect(localTime(at)).toBe('2026-12-05T02:03:11-05:00');
      useTimeZone('UTC');
      expect(localTime(at)).toBe('2026-12-05T07:03:11+00:00');
    } finally {
      useTimeZone(before);
    }
  });
});
