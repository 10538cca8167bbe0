// IM3 with `IM3_PROVIDER=http` against the fake operator (test/fakes/im3-operator.ts, a real HTTP server that checks
// every request's signature with its own HMAC): OTP linking, the profile, purchases to COMPLETED and FAILED, what a
// user sees when the operator fails or refuses, and that the operator session never leaves the server.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpOperator, OperatorError } from '../src/modules/im3/operator.ts';
import { type FakeIm3Operator, startFakeIm3Operator } from './fakes/im3-operator.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { waitFor } from './helpers/photobox.ts';

let fake: FakeIm3Operator;
let t: TestApp;
const envFor = (f: FakeIm3Operator, key = f.signingKey) => ({
  IM3_PROVIDER: 'http',
  IM3_BASE_URL: f.url,
  IM3_CLIENT_ID: f.clientId,
  IM3_SIGNING_KEY: key,
  IM3_TIMEOUT_MS: '800',
  IM3_ELIGIBILITY_INTERVAL_MS: '150',
  IM3_PAYMENT_POLL_MS: '150',
});

beforeAll(async () => {
  fake = await startFakeIm3Operator();
  t = await startTestApp({ env: envFor(fake), config: { modules: ['im3'] } });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

type Res = { statusCode: number; json(): any; body: string };
/** Every response body Loket sent in this file, to prove the operator session never appears in one. */
const bodies: string[] = [];
async function call(
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  headers: Record<string, string> = {},
  payload?: object,
  app: TestApp = t,
): Promise<Res> {
  const res = (await app.app.inject({ method, url, headers, payload })) as Res;
  bodies.push(res.body);
  return res;
}
const tag = () => randomBytes(4).toString('hex');
const phone = () => `62857${String(Math.floor(Math.random() * 1e7)).padStart(7, '3')}`;

function expectOk(res: Res, status = 200) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.json()).toMatchObject({ success: true, request_id: expect.any(String) });
  return res.json().data;
}
function expectErr(res: Res, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.json()).toMatchObject({ success: false, error: { code, message: expect.any(String) } });
  return res.json().error as { code: string; message: string };
}

async function user(p = phone(), app: TestApp = t) {
  const username = `h_${tag()}`;
  const password = `pw-${tag()}-secret`;
  expectOk(await call('POST', '/api/auth/register', {}, { username, password }, app), 201);
  const login = expectOk(await call('POST', '/api/auth/login', {}, { username, password }, app));
  const h = bearer(login.access_token);
  expectOk(await call('PUT', '/api/user/me', h, { phone_number: p }, app));
  return { h, id: login.user.id as number, phone: p };
}
async function verified(p = phone()) {
  const u = await user(p);
  expectOk(await call('GET', '/api/im3/send-otp', u.h));
  expectOk(await call('POST', '/api/im3/verify-otp', u.h, { code: fake.lastOtp(p) }));
  return { ...u, token: fake.lastToken(p) as string };
}
async function newPackage() {
  const admin = await makeAccount(t.app, { im3: 50 });
  const h = bearer((await tokensFor(t.app, admin)).access_token);
  return expectOk(
    await call('POST', '/api/admin/im3/packages', h, {
      pvr_code: `IM3-$MSISDN$-${tag()}`,
      keyword: 'DATA5GB',
      discount_price: 45_000,
      normal_price: 50_000,
      package_name: '5GB Internet',
    }),
    201,
  ) as { id: number; pvr_code: string };
}
const txOf = async (h: Record<string, string>, id: number) =>
  expectOk(await call('GET', `/api/packages/transactions/${id}`, h));
const until = (h: Record<string, string>, id: number, status: string, ms = 20_000) =>
  waitFor(
    status,
    async () => {
      const d = await txOf(h, id);
      return d.status === status ? d : undefined;
    },
    ms,
  );
const historyOf = (d: { status_history: { status: string }[] }) => d.status_history.map((e) => e.status);
const FULL = [
  'PENDING',
  'PROCESSING',
  'CHECKING_ELIGIBILITY',
  'WAITING_FOR_ELIGIBILITY',
  'INITIATING_PAYMENT',
  'PAYMENT_INITIATED',
  'COMPLETED',
];
const dedupe = (xs: string[]) => xs.filter((x, i) => x !== xs[i - 1]);

describe('IM3 over HTTP (fake operator)', () => {
  it('links a number by OTP, reads the profile and buys a package to COMPLETED; every call is signed', async () => {
    const p = phone();
    const u = await user(p);
    expect((await call('POST', '/_dev/im3/transactions/1/pay')).statusCode).toBe(404); // simulator only

    expect(expectOk(await call('GET', '/api/im3/send-otp', u.h))).toMatchObject({ phone_number: p });
    const sent = fake.requests.at(-1);
    expect(sent).toMatchObject({ path: '/api/v2/otp/send/v1', verdict: 'ok', body: { msisdn: p, action: 'register' } });
    expect(sent?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-client-id': fake.clientId,
      'x-timestamp': expect.stringMatching(/^\d{10}$/),
      'x-signature': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(sent?.headers.authorization).toBeUndefined();

    const v = expectOk(await call('POST', '/api/im3/verify-otp', u.h, { otp: fake.lastOtp(p) }));
    expect(v).toMatchObject({ verified: true, phone_number: p });
    expect(fake.requests.at(-1)).toMatchObject({
      path: '/api/v2/otp/validate/v1',
      body: { transid: expect.stringMatching(/^TRX/), otp: fake.lastOtp(p) },
    });
    const token = fake.lastToken(p) as string;

    const prof = expectOk(await call('GET', '/api/im3/profile', u.h));
    expect(prof).toEqual({
      msisdn: p,
      name: `Pelanggan ${p.slice(-4)}`,
      balance: 12_500,
      status: 'ACTIVE',
      active_until: '2027-01-31',
    });
    expect(fake.requests.at(-1)?.headers.authorization).toBe(`Bearer ${token}`);

    const pkg = await newPackage();
    const d = expectOk(await call('POST', '/api/packages/packages/purchase', u.h, { package_id: pkg.id }), 202);
    expect(d).toMatchObject({ status: 'PENDING', task_id: expect.any(String) });
    const initiated = await until(u.h, d.transaction_id, 'PAYMENT_INITIATED');
    const payment = fake.paymentFor(d.task_id);
    expect(payment).toBeDefined();
    expect(initiated.qr_payload).toBe(payment?.qrString);
    expect(initiated.qr_code).toMatch(/^data:image\/png;base64,/);
    const pvr = pkg.pvr_code.replace('$MSISDN$', p);
    expect(payment?.body).toEqual({
      msisdn: p,
      pvrcode: pvr,
      keyword: 'DATA5GB',
      amount: 45_000,
      reference: d.task_id,
    });
    const check = [...fake.checks.values()].at(-1);
    expect(check?.body).toEqual({
      msisdn: p,
      pvrcode: pvr,
      keyword: 'DATA5GB',
      discountprice: 45_000,
      normalprice: 50_000,
      packagename: '5GB Internet',
      billaccount: '',
    });
    expect(check?.polls).toBe(2); // one PENDING answer, then ELIGIBLE

    fake.settle(d.task_id, 'PAID');
    const done = await until(u.h, d.transaction_id, 'COMPLETED');
    expect(historyOf(done)).toEqual(FULL);
    expect(payment?.initiations).toBe(1);
    // Every request so far carried a signature the fake's own HMAC accepted, in the adapter's call sequence.
    expect(fake.requests.every((r) => r.verdict === 'ok')).toBe(true);
    expect(dedupe(fake.acceptedPaths())).toEqual([
      '/api/v2/otp/send/v1',
      '/api/v2/otp/validate/v1',
      '/api/v2/profile/get/v1',
      '/api/v2/package/eligible/v1',
      '/api/v2/package/eligible/status/v1',
      '/api/v2/payment/qris/v1',
      '/api/v2/payment/status/v1',
    ]);
  });

  it('the fake refuses a tampered signature, body, client id or timestamp; a wrong key is refused', async () => {
    // Replay Loket's last profile request exactly (accepted), then with one thing changed (401 each time).
    const u = await verified();
    expectOk(await call('GET', '/api/im3/profile', u.h));
    const last = fake.requests.at(-1);
    expect(last?.path).toBe('/api/v2/profile/get/v1');
    const h = last?.headers as Record<string, string>;
    const send = (headers: Record<string, string>, body = '{}') =>
      fetch(`${fake.url}/api/v2/profile/get/v1`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: h.authorization as string,
          'x-client-id': h['x-client-id'] as string,
          'x-timestamp': h['x-timestamp'] as string,
          'x-signature': h['x-signature'] as string,
          ...headers,
        },
        body,
      });
    expect((await send({})).status).toBe(200);
    const sig = h['x-signature'] as string;
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`;
    expect((await send({ 'x-signature': flipped })).status).toBe(401);
    expect(fake.requests.at(-1)?.verdict).toBe('bad-signature');
    expect((await send({}, '{"msisdn":"6280000000000"}')).status).toBe(401);
    expect(fake.requests.at(-1)?.verdict).toBe('bad-signature');
    expect((await send({ 'x-client-id': 'someone-else' })).status).toBe(401);
    expect(fake.requests.at(-1)?.verdict).toBe('bad-client');
    expect((await send({ 'x-timestamp': String(Number(h['x-timestamp']) - 3600) })).status).toBe(401);
    expect(fake.requests.at(-1)?.verdict).toBe('stale-timestamp');

    // The adapter itself: the right key is accepted and a wrong one refused, so the fake's independent HMAC agrees
    // with signIm3 exactly when the keys match.
    const adapter = (key: string) =>
      createHttpOperator({
        config: { im3BaseUrl: fake.url, im3ClientId: fake.clientId, im3SigningKey: key, im3TimeoutMs: 2000 },
      });
    const p = phone();
    await expect(adapter(fake.signingKey).sendOtp(t.app.loket.database.db, p)).resolves.toMatchObject({
      challenge: expect.stringMatching(/^TRX/),
    });
    const refused = await adapter(`${fake.signingKey}x`)
      .sendOtp(t.app.loket.database.db, p)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OperatorError);
    expect((refused as OperatorError).kind).toBe('auth');
    expect(fake.requests.at(-1)?.verdict).toBe('bad-signature');

    // What a user of a Loket configured with the wrong key sees: IM3_AUTH_ERROR 502, nothing linked.
    const wrong = await startTestApp({ env: envFor(fake, 'not-the-operator-key'), config: { modules: ['im3'] } });
    try {
      const w = await user(phone(), wrong);
      expectErr(await call('GET', '/api/im3/send-otp', w.h, undefined, wrong), 502, 'IM3_AUTH_ERROR');
      expect(fake.requests.at(-1)?.verdict).toBe('bad-signature');
      expectErr(await call('POST', '/api/im3/verify-otp', w.h, { code: '123456' }, wrong), 422, 'BUSINESS_LOGIC_ERROR');
    } finally {
      await wrong.close();
    }
  }, 30_000);

  it('a refused OTP is IM3_AUTH_ERROR 502 and links nothing; a new OTP then works', async () => {
    const p = phone();
    const u = await user(p);
    fake.nextOtp('246810');
    expectOk(await call('GET', '/api/im3/send-otp', u.h));
    expect(fake.lastOtp(p)).toBe('246810');
    const e = expectErr(await call('POST', '/api/im3/verify-otp', u.h, { code: '135791' }), 502, 'IM3_AUTH_ERROR');
    expect(e.message).toMatch(/OTP salah/);
    expectErr(await call('GET', '/api/im3/profile', u.h), 422, 'BUSINESS_LOGIC_ERROR');
    // Three wrong codes: the operator gives up on that transid (still an auth error for the user).
    expectErr(await call('POST', '/api/im3/verify-otp', u.h, { code: '135792' }), 502, 'IM3_AUTH_ERROR');
    expectErr(await call('POST', '/api/im3/verify-otp', u.h, { code: '135793' }), 502, 'IM3_AUTH_ERROR');
    expectErr(await call('POST', '/api/im3/verify-otp', u.h, { code: '246810' }), 502, 'IM3_AUTH_ERROR');
    expectOk(await call('GET', '/api/im3/send-otp', u.h));
    expectOk(await call('POST', '/api/im3/verify-otp', u.h, { code: fake.lastOtp(p) }));
    expect(expectOk(await call('GET', '/api/im3/profile', u.h)).msisdn).toBe(p);
  });

  it('operator 5xx, 429, timeouts and answers that are not envelopes: EXTERNAL_SERVICE_ERROR 502', async () => {
    const p = phone();
    const u = await user(p);
    // While linking.
    fake.failNext(503);
    const e1 = expectErr(await call('GET', '/api/im3/send-otp', u.h), 502, 'EXTERNAL_SERVICE_ERROR');
    expect(e1.message).toMatch(/HTTP 503/);
    fake.delayNext(1500);
    const started = Date.now();
    expectErr(await call('GET', '/api/im3/send-otp', u.h), 502, 'EXTERNAL_SERVICE_ERROR');
    expect(Date.now() - started).toBeLessThan(1400); // IM3_TIMEOUT_MS is 800
    const none = await t.app.loket.database.db
      .selectFrom('im3_sessions')
      .select('account_id')
      .where('account_id', '=', u.id)
      .executeTakeFirst();
    expect(none).toBeUndefined();
    expectOk(await call('GET', '/api/im3/send-otp', u.h));
    fake.failNext(500);
    expectErr(await call('POST', '/api/im3/verify-otp', u.h, { code: fake.lastOtp(p) }), 502, 'EXTERNAL_SERVICE_ERROR');
    expectOk(await call('POST', '/api/im3/verify-otp', u.h, { code: fake.lastOtp(p) }));

    // Reading the profile.
    for (const [status, body, type] of [
      [502, undefined, undefined],
      [429, '{"status":"E429","message":"slow down"}', 'application/json'],
      [200, '<html>maintenance</html>', 'text/html'],
      [200, 'null', 'application/json'], // JSON, but no envelope: was a TypeError and a 500 before
      [200, '[1,2]', 'application/json'],
      [200, '{"status":"0","data":{"name":"x"}}', 'application/json'], // no msisdn
    ] as const) {
      fake.failNext(status, body, type);
      expectErr(await call('GET', '/api/im3/profile', u.h), 502, 'EXTERNAL_SERVICE_ERROR');
    }
    fake.delayNext(1500);
    expectErr(await call('GET', '/api/im3/profile', u.h), 502, 'EXTERNAL_SERVICE_ERROR');
    expectOk(await call('GET', '/api/im3/profile', u.h));

    // The operator forgot the session: an auth error, not an outage.
    fake.revoke(fake.lastToken(p) as string);
    expectErr(await call('GET', '/api/im3/profile', u.h), 502, 'IM3_AUTH_ERROR');
  });

  it('a purchase rides out a 5xx and a timeout (the step is retried) and still completes', async () => {
    const u = await verified();
    const pkg = await newPackage();
    const before = fake.requests.length;
    fake.failNext(503); // the eligibility request
    const d = expectOk(await call('POST', `/api/packages/${pkg.id}/purchase`, u.h), 202);
    await waitFor('the 503', async () => fake.requests.length > before, 10_000);
    fake.delayNext(1500); // its retry times out
    await waitFor('the retry', async () => fake.requests.length > before + 1, 15_000);
    // Meanwhile the user sees the purchase waiting where it stood, not failed.
    const mid = await txOf(u.h, d.transaction_id);
    expect(mid.status).toBe('CHECKING_ELIGIBILITY');
    expect(mid.error_message).toBeNull();
    await until(u.h, d.transaction_id, 'PAYMENT_INITIATED', 40_000);
    fake.settle(d.task_id, 'PAID');
    const done = await until(u.h, d.transaction_id, 'COMPLETED');
    expect(historyOf(done)).toEqual(FULL);
    expect(fake.requests[before]).toMatchObject({ path: '/api/v2/package/eligible/v1', verdict: 'ok' });
    expect(t.logs.text).toContain('IM3 step failed; will retry');
  }, 60_000);

  it('not eligible, a refused order, a failed payment and a revoked session end FAILED with a reason', async () => {
    const pkg = await newPackage();

    // Four purchases at once, each failing its own way.
    const notEligible = async () => {
      const a = await verified();
      fake.setEligibility(a.phone, 'NOT_ELIGIBLE', 0);
      const ta = expectOk(await call('POST', `/api/packages/${pkg.id}/purchase`, a.h), 202);
      const fa = await until(a.h, ta.transaction_id, 'FAILED');
      expect(historyOf(fa)).toEqual([
        'PENDING',
        'PROCESSING',
        'CHECKING_ELIGIBILITY',
        'WAITING_FOR_ELIGIBILITY',
        'FAILED',
      ]);
      expect(fa.error_message).toMatch(/not eligible/);
    };
    const refusedOrder = async () => {
      const b = await verified();
      fake.refusePvr(pkg.pvr_code.replace('$MSISDN$', b.phone));
      const tb = expectOk(await call('POST', `/api/packages/${pkg.id}/purchase`, b.h), 202);
      const fb = await until(b.h, tb.transaction_id, 'FAILED');
      expect(historyOf(fb)).toEqual(['PENDING', 'PROCESSING', 'CHECKING_ELIGIBILITY', 'FAILED']);
      expect(fb.error_message).toMatch(/paket tidak tersedia/);
    };
    const failedPayment = async () => {
      const c = await verified();
      const tc = expectOk(await call('POST', `/api/packages/${pkg.id}/purchase`, c.h), 202);
      await until(c.h, tc.transaction_id, 'PAYMENT_INITIATED');
      fake.settle(tc.task_id, 'EXPIRED');
      const fc = await until(c.h, tc.transaction_id, 'FAILED');
      expect(fc.error_message).toMatch(/payment failed/);
      expect(historyOf(fc).at(-2)).toBe('PAYMENT_INITIATED');
    };
    const revokedSession = async () => {
      const d = await verified();
      fake.revoke(d.token);
      const td = expectOk(await call('POST', `/api/packages/${pkg.id}/purchase`, d.h), 202);
      const fd = await until(d.h, td.transaction_id, 'FAILED');
      expect(historyOf(fd)).toEqual(['PENDING', 'PROCESSING', 'CHECKING_ELIGIBILITY', 'FAILED']);
      expect(fd.error_message).toMatch(/refused the session/);
    };
    await Promise.all([notEligible(), refusedOrder(), failedPayment(), revokedSession()]);
  }, 60_000);

  it('the operator session never appears in a response, a log line or the database in clear', async () => {
    expect(fake.tokens.length).toBeGreaterThan(5);
    const all = bodies.join('\n');
    const rows = await t.app.loket.database.db.selectFrom('im3_sessions').selectAll().execute();
    const stored = JSON.stringify(rows);
    expect(t.logs.lines.length).toBeGreaterThan(0);
    for (const token of fake.tokens) {
      expect(all).not.toContain(token);
      expect(t.logs.text).not.toContain(token);
      expect(stored).not.toContain(token);
    }
    expect(t.logs.text).not.toContain(fake.signingKey);
    expect(all).not.toContain('im3tok_');
    expect(t.logs.text).not.toContain('im3tok_');
  });
});
