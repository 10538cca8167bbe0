// IM3 with `IM3_PROVIDER=http` against the fake operator (test/fakes/im3-operator.ts, a real HTTP server speaking the
// original app's wire format that checks every request's X-Imi-Oauth / X-Imi-Hash with its own SHA-512 and decrypts
// RC4 bodies with its own RC4): OTP linking, the profile, purchases to COMPLETED and FAILED, what a user sees when the
// operator fails or refuses, and that the operator session and keys never leave the server.
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createHttpOperator, rc4Hex, wireJson } from '../src/modules/im3/providers/http.ts';
import { OperatorError } from '../src/modules/im3/providers/operator.ts';
import { FAKE_IM3, type FakeIm3Operator, startFakeIm3Operator } from './fakes/im3-operator.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { waitFor } from './helpers/photobox.ts';

let fake: FakeIm3Operator;
let t: TestApp;
const envFor = (f: FakeIm3Operator, overrides: Record<string, string> = {}) => ({
  ...f.env(),
  ...overrides,
  // Each profile read here reaches the operator (the short profile memory is tested in im3-compat.test.ts).
  IM3_PROFILE_CACHE_MS: '0',
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

type Res = Pick<LightMyRequestResponse, 'statusCode' | 'json' | 'body'>;
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
    expect(sent?.raw).toBe(`{"msisdn":"${p}","action":"register"}`);
    expect(sent?.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: FAKE_IM3.authorization,
      'x-imi-servicekey': FAKE_IM3.serviceKey,
      'x-imi-app-os': FAKE_IM3.appOs,
      'x-imi-version': FAKE_IM3.appVersion,
      ...FAKE_IM3.headers,
      'x-imi-uid': expect.stringMatching(/^\d{13}$/),
      'x-imi-tokenid': expect.stringMatching(/^\d{7}$/), // before login: odd-position digits of the time in ms
      'x-imi-oauth': expect.stringMatching(/^[0-9a-f]{128}$/),
      'x-imi-hash': expect.stringMatching(/^[0-9a-f]{128}$/),
    });

    const v = expectOk(await call('POST', '/api/im3/verify-otp', u.h, { otp: fake.lastOtp(p) }));
    expect(v).toMatchObject({ verified: true, phone_number: p });
    expect(fake.requests.at(-1)).toMatchObject({
      path: '/api/v2/otp/validate/v1',
      verdict: 'ok',
      body: { transid: expect.stringMatching(/^TRX/), otp: fake.lastOtp(p) },
    });
    const token = fake.lastToken(p) as string;

    // The profile: the number is `data.mob` plus 62 (the field the original reads), the operator's fields beside ours.
    const prof = expectOk(await call('GET', '/api/im3/profile', u.h));
    expect(prof).toMatchObject({
      msisdn: p,
      mob: p.slice(2),
      name: `Pelanggan ${p.slice(-4)}`,
      balance: 0,
      status: 'UNKNOWN',
      active_until: null,
    });
    expect(fake.requests.at(-1)).toMatchObject({ path: '/api/v2/profile/get', raw: '{}', verdict: 'ok' });
    expect(fake.requests.at(-1)?.headers['x-imi-tokenid']).toBe(token);

    const pkg = await newPackage();
    const d = expectOk(await call('POST', '/api/packages/packages/purchase', u.h, { package_id: pkg.id }), 202);
    expect(d).toMatchObject({ status: 'PENDING', task_id: expect.any(String) });
    const initiated = await until(u.h, d.transaction_id, 'PAYMENT_INITIATED');
    const payment = fake.paymentFor(p);
    expect(payment).toBeDefined();
    expect(initiated.qr_payload).toBe(payment?.qrString);
    expect(initiated.qr_code).toMatch(/^data:image\/png;base64,/);
    const pvr = pkg.pvr_code.replace('$MSISDN$', p);
    const check = [...fake.checks.values()].at(-1);
    expect(check?.body).toEqual({
      billaccount: '',
      discountprice: 45_000,
      keyword: 'DATA5GB',
      name: '',
      normalprice: 50_000,
      offerid: pvr,
      operationtype: 'buy',
      packagename: '5GB Internet',
      paymentchannel: 'QRIS',
      shortcode: '',
      tomsisdn: p,
      transid: '',
      transtype: 'cvm',
      validity: '',
      walletmsisdn: '',
    });
    expect(check?.polls).toBe(2); // one pending answer, then `data.eligibility`
    // The eligibility check went RC4-encrypted (hex), signed over that hex; the status question plain.
    const checkReq = fake.requests.find((r) => r.path === '/api/v2/cvm/checkeligible' && r.verdict === 'ok');
    expect(checkReq?.raw).toMatch(/^[0-9a-f]+$/);
    expect(checkReq?.raw).toBe(rc4Hex(FAKE_IM3.rc4Key, JSON.stringify(check?.body)));
    expect(fake.requests.find((r) => r.path === '/api/v2/esb/checkeligiblestatus')?.body).toEqual({
      transid: check?.transid,
    });
    expect(payment?.transid).toBe(check?.transid);
    expect(payment?.body).toEqual({
      balancereceive: 0,
      validity: '',
      discountprice: 45_000,
      due: 0,
      duedate: '',
      keyword: 'DATA5GB',
      name: '',
      normalprice: 50_000,
      offerid: pvr,
      operationtype: 'buy',
      packagename: '5GB Internet',
      paymentchannel: 'QRIS',
      shortcode: '',
      tomsisdn: p,
      transid: check?.transid,
      transtype: 'cvm',
      walletmsisdn: '',
    });
    const payReq = fake.requests.find((r) => r.path === '/api/v2/esb/initiatepayment');
    expect(payReq?.raw).toMatch(/^\{"balancereceive":0\.0,"validity":"","discountprice":45000,"due":0\.0,/);

    fake.settle(p, 'PAID');
    const done = await until(u.h, d.transaction_id, 'COMPLETED');
    expect(historyOf(done)).toEqual(FULL);
    expect(payment?.initiations).toBe(1);
    // Every request so far carried signatures the fake's own SHA-512 accepted, in the original's call sequence
    // (the purchase reads the profile again for the number, as the original does), then the configured status path.
    expect(fake.requests.every((r) => r.verdict === 'ok')).toBe(true);
    expect(dedupe(fake.acceptedPaths())).toEqual([
      '/api/v2/otp/send/v1',
      '/api/v2/otp/validate/v1',
      '/api/v2/profile/get',
      '/api/v2/cvm/checkeligible',
      '/api/v2/esb/checkeligiblestatus',
      '/api/v2/esb/initiatepayment',
      FAKE_IM3.paymentStatusPath,
    ]);
  });

  it('signing and RC4 match the original scheme: known vectors, compact JSON with floats and \\u escapes', () => {
    // The classic RC4 test vectors.
    expect(rc4Hex('Key', 'Plaintext')).toBe('bbf316e8d940af0ad3');
    expect(rc4Hex('Wiki', 'pedia')).toBe('1021bf0420');
    expect(rc4Hex('Secret', 'Attack at dawn')).toBe('45a01f645fc35b383552544b9bf5');
    expect(wireJson({ a: 'é', b: 0, c: 45_000 })).toBe('{"a":"\\u00e9","b":0,"c":45000}');
    expect(wireJson({})).toBe('{}');
    // Without every key and identity value, the http provider does not start.
    expect(() => loadConfig({ IM3_PROVIDER: 'http', IM3_BASE_URL: 'http://127.0.0.1:1' })).toThrow(
      /IM3_AUTHORIZATION, IM3_SERVICE_KEY, IM3_RC4_KEY, IM3_APP_OS, IM3_APP_VERSION, IM3_PAYMENT_STATUS_PATH/,
    );
    expect(() => loadConfig({ ...fake.env(), IM3_HEADERS: '["x"]' })).toThrow(/IM3_HEADERS/);
  });

  it('the fake refuses a tampered X-Imi-Oauth, body, X-Imi-Hash, uid or static key; wrong keys are refused', async () => {
    // Replay Loket's last profile request exactly (accepted), then with one thing changed (401 each time).
    const u = await verified();
    expectOk(await call('GET', '/api/im3/profile', u.h));
    const last = fake.requests.at(-1);
    expect(last?.path).toBe('/api/v2/profile/get');
    const h = Object.fromEntries(
      Object.entries(last?.headers ?? {}).filter(
        ([k]) => k.startsWith('x-') || ['authorization', 'user-agent', 'content-type'].includes(k),
      ),
    ) as Record<string, string>;
    const send = (headers: Record<string, string>, body = '{}') =>
      fetch(`${fake.url}/api/v2/profile/get`, { method: 'POST', headers: { ...h, ...headers }, body });
    expect((await send({})).status).toBe(200);
    const sig = h['x-imi-oauth'] as string;
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`;
    expect((await send({ 'x-imi-oauth': flipped })).status).toBe(401);
    expect(fake.requests.at(-1)?.verdict).toBe('bad-signature');
    expect((await send({}, '{"msisdn":"6280000000000"}')).status).toBe(401);
    expect(fake.requests.at(-1)?.verdict).toBe('bad-signature');
    expect((await send({ 'x-imi-uid': String(Number(h['x-imi-uid']) + 1) })).status).toBe(401);
    expect(fake.requests.at(-1)?.verdict).toBe('bad-hash');
    expect((await send({ 'x-imi-uid': String(Number(h['x-imi-uid']) - 3_600_000) })).status).toBe(401);
    expect(fake.requests.at(-1)?.verdict).toBe('stale-uid');
    expect((await send({ 'x-imi-servicekey': 'someone-else' })).status).toBe(401);
    expect(fake.requests.at(-1)?.verdict).toBe('bad-client');

    // The adapter itself: the right configuration is accepted; a wrong key, Authorization or app version is refused
    // (auth).
    const base = loadConfig({ ...fake.env(), IM3_TIMEOUT_MS: '2000' });
    const adapter = (over: Partial<typeof base> = {}) => createHttpOperator({ config: { ...base, ...over } });
    const db = t.app.loket.database.db;
    const p = phone();
    await expect(adapter().sendOtp(db, p)).resolves.toMatchObject({ challenge: expect.stringMatching(/^TRX/) });
    for (const [over, verdict] of [
      [{ im3ServiceKey: `${FAKE_IM3.serviceKey}x` }, 'bad-client'],
      [{ im3Authorization: 'not-the-authorization' }, 'bad-client'],
      [{ im3AppVersion: '9.9.9' }, 'bad-client'],
    ] as const) {
      const refused = await adapter(over)
        .sendOtp(db, p)
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(OperatorError);
      expect((refused as OperatorError).kind).toBe('auth');
      expect(fake.requests.at(-1)?.verdict).toBe(verdict);
    }
    // A wrong RC4 key: the operator cannot read the eligibility check and refuses the order.
    const order = {
      pvrCode: 'OFFER-$MSISDN$',
      keyword: 'K',
      discountPrice: 1000,
      normalPrice: 2000,
      packageName: 'P',
      msisdn: u.phone,
      reference: 'ref-1',
    };
    await expect(adapter().checkEligibility(u.token, order)).resolves.toMatchObject({ ref: /^CVM/ });
    const unreadable = await adapter({ im3Rc4Key: 'not-the-rc4-key' })
      .checkEligibility(u.token, order)
      .catch((e: unknown) => e);
    expect((unreadable as OperatorError).kind).toBe('rejected');
    expect(fake.requests.at(-1)?.verdict).toBe('bad-encryption');

    // What a user of a Loket configured with the wrong key sees: IM3_AUTH_ERROR 502, nothing linked.
    const wrong = await startTestApp({
      env: envFor(fake, { IM3_SERVICE_KEY: 'not-the-operator-key' }),
      config: { modules: ['im3'] },
    });
    try {
      const w = await user(phone(), wrong);
      expectErr(await call('GET', '/api/im3/send-otp', w.h, undefined, wrong), 502, 'IM3_AUTH_ERROR');
      expect(fake.requests.at(-1)?.verdict).toBe('bad-client');
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
    fake.failNext(503); // the purchase's first call: the profile, for the number
    const d = expectOk(await call('POST', `/api/packages/${pkg.id}/purchase`, u.h), 202);
    await waitFor('the 503', async () => fake.requests.length > before, 10_000);
    fake.delayNext(1500); // its retry times out
    await waitFor('the retry', async () => fake.requests.length > before + 1, 15_000);
    // Meanwhile the user sees the purchase waiting where it stood, not failed.
    const mid = await txOf(u.h, d.transaction_id);
    expect(mid.status).toBe('CHECKING_ELIGIBILITY');
    expect(mid.error_message).toBeNull();
    await until(u.h, d.transaction_id, 'PAYMENT_INITIATED', 40_000);
    fake.settle(u.phone, 'PAID');
    const done = await until(u.h, d.transaction_id, 'COMPLETED');
    expect(historyOf(done)).toEqual(FULL);
    expect(fake.requests[before]).toMatchObject({ path: '/api/v2/profile/get', verdict: 'ok' });
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
      // The original never reads a "not eligible": it asks until IM3_ELIGIBILITY_ATTEMPTS run out.
      expect(fa.error_message).toMatch(/did not confirm eligibility in time/);
      expect([...fake.checks.values()].find((c) => c.msisdn === a.phone)?.polls).toBe(5);
    };
    const refusedOrder = async () => {
      const b = await verified();
      fake.refuseOffer(pkg.pvr_code.replace('$MSISDN$', b.phone));
      const tb = expectOk(await call('POST', `/api/packages/${pkg.id}/purchase`, b.h), 202);
      const fb = await until(b.h, tb.transaction_id, 'FAILED');
      expect(historyOf(fb)).toEqual(['PENDING', 'PROCESSING', 'CHECKING_ELIGIBILITY', 'FAILED']);
      expect(fb.error_message).toMatch(/paket tidak tersedia/);
    };
    const failedPayment = async () => {
      const c = await verified();
      const tc = expectOk(await call('POST', `/api/packages/${pkg.id}/purchase`, c.h), 202);
      await until(c.h, tc.transaction_id, 'PAYMENT_INITIATED');
      fake.settle(c.phone, 'EXPIRED');
      const fc = await until(c.h, tc.transaction_id, 'FAILED');
      expect(fc.error_message).toMatch(/payment failed/);
      // The whole history, so that a failure shows every step the purchase took.
      expect(dedupe(historyOf(fc))).toEqual([...FULL.slice(0, -1), 'FAILED']);
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
    for (const key of [FAKE_IM3.authorization, FAKE_IM3.serviceKey, FAKE_IM3.rc4Key]) {
      expect(t.logs.text).not.toContain(key);
      expect(all).not.toContain(key);
    }
    expect(all).not.toContain('im3tok_');
    expect(t.logs.text).not.toContain('im3tok_');
  });
});
