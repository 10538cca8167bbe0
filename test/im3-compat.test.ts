// IM3 drop-in compatibility (issue 21, findings 7–11 and 22–26): what a client written for the original (its public
// web frontend, or a script from the document) needs from Loket. One app on the simulator with rate limits on, one
// answering in the original's status names, one on the HTTP adapter against the fake operator.
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { type FakeIm3Operator, startFakeIm3Operator } from './fakes/im3-operator.ts';
import { rememberSecret, startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { waitFor } from './helpers/photobox.ts';

const FRONTEND = 'http://localhost:3000';
const STEPS = { IM3_SIMULATOR_STEP_MS: '50', IM3_ELIGIBILITY_INTERVAL_MS: '100', IM3_PAYMENT_POLL_MS: '100' };

let t: TestApp;
let original: TestApp;
let viaHttp: TestApp;
let fake: FakeIm3Operator;
beforeAll(async () => {
  fake = await startFakeIm3Operator();
  t = await startTestApp({ env: { ...STEPS, CORS_ORIGINS: FRONTEND }, config: { modules: ['im3'], rateLimits: true } });
  original = await startTestApp({ env: { ...STEPS, IM3_STATUS_NAMES: 'original' }, config: { modules: ['im3'] } });
  viaHttp = await startTestApp({
    env: { ...fake.env(), IM3_ELIGIBILITY_INTERVAL_MS: '100', IM3_PAYMENT_POLL_MS: '100' },
    config: { modules: ['im3'], rateLimits: true },
  });
}, 240_000);
afterAll(async () => {
  await Promise.all([t?.close(), original?.close(), viaHttp?.close()]);
  await fake?.close();
});

type Res = Pick<LightMyRequestResponse, 'statusCode' | 'json' | 'body' | 'headers'>;
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS';
/** A request from its own client address unless told (the register limit is 5 a minute per address). */
const call = (
  app: TestApp,
  method: Method,
  url: string,
  headers: Record<string, string> = {},
  payload?: object | string,
  remoteAddress = `10.${rnd()}.${rnd()}.${rnd()}`,
) => app.app.inject({ method, url, headers, payload, remoteAddress }) as Promise<Res>;
const rnd = () => Math.floor(Math.random() * 250) + 1;
const tag = () => randomBytes(4).toString('hex');
const phone = () => `62812${String(Math.floor(Math.random() * 1e7)).padStart(7, '1')}`;

function expectOk(res: Res, status = 200) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.json()).toMatchObject({ success: true, request_id: expect.any(String), data: expect.anything() });
  return res.json().data;
}
function expectErr(res: Res, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.json()).toMatchObject({
    success: false,
    request_id: expect.any(String),
    timestamp: expect.any(String),
    error: { code, message: expect.any(String), details: expect.any(Object) },
  });
  return res.json().error as { code: string; message: string; details: Record<string, string[]> };
}

/** An IM3 user (made directly: the register limit is per address), signed in, with `p` as its number. */
async function user(app: TestApp, p = phone()) {
  const a = await makeAccount(app.app, { im3: 1 }, { phone: p });
  const tokens = await tokensFor(app.app, a);
  return { ...a, phone: p, h: bearer(tokens.access_token), tokens };
}
async function lastSms(app: TestApp, to: string) {
  const res = await call(app, 'GET', `/_dev/outbox?to=${to}&channel=sms&limit=1`);
  return /(\d{6})/.exec(res.json().messages[0]?.body ?? '')?.[1];
}
/** A user whose number is linked to the operator (simulator: the OTP from the outbox; HTTP: from the fake). */
async function linked(app: TestApp, p = phone()) {
  const u = await user(app, p);
  expectOk(await call(app, 'GET', '/api/im3/send-otp', u.h));
  const code = app === viaHttp ? fake.lastOtp(p) : await lastSms(app, p);
  expectOk(await call(app, 'POST', '/api/im3/verify-otp', u.h, { otp: code }));
  return u;
}
async function newPackage(app: TestApp) {
  const admin = bearer((await tokensFor(app.app, await makeAccount(app.app, { im3: 50 }))).access_token);
  return expectOk(
    await call(app, 'POST', '/api/admin/im3/packages', admin, {
      pvr_code: `PVR-${tag()}`,
      keyword: 'DATA5GB',
      discount_price: 45_000,
      normal_price: 50_000,
      package_name: '5GB Internet Package',
    }),
    201,
  ) as Record<string, unknown> & { id: number };
}
const statusOf = async (app: TestApp, h: Record<string, string>, id: number) =>
  expectOk(await call(app, 'GET', `/api/packages/transactions/${id}`, h));
const until = (app: TestApp, h: Record<string, string>, id: number, status: string) =>
  waitFor(`transaction ${id} ${status}`, async () => {
    const d = await statusOf(app, h, id);
    return d.status === status ? d : undefined;
  });

describe('7. CORS', () => {
  it('a browser on the frontend origin may PUT /api/user/me (step 1 of the documented flow)', async () => {
    const res = await call(t, 'OPTIONS', '/api/user/me', {
      origin: FRONTEND,
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'authorization, content-type',
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(FRONTEND);
    expect(String(res.headers['access-control-allow-methods']).split(', ')).toContain('PUT');
  });
});

describe('8. password change', () => {
  it('keeps the calling session (its token goes on working), ends the others, and reads `old_password`', async () => {
    const u = await user(t);
    const other = await tokensFor(t.app, u);
    const d = expectOk(
      await call(t, 'POST', '/api/user/me/change-password', u.h, {
        old_password: u.password,
        new_password: 'a-new-password-1',
      }),
    );
    rememberSecret('a-new-password-1', d.access_token, d.refresh_token);
    // The caller's own token still works, as do the tokens the answer gave.
    expect(expectOk(await call(t, 'GET', '/api/user/me', u.h)).id).toBe(u.id);
    expectOk(await call(t, 'GET', '/api/user/me', bearer(d.access_token)));
    // The other session has ended at once: its access token and its refresh token.
    expectErr(await call(t, 'GET', '/api/user/me', bearer(other.access_token)), 401, 'AUTHENTICATION_ERROR');
    const refresh = await call(t, 'POST', '/api/users/refresh', {}, { refresh_token: other.refresh_token });
    expect(refresh.statusCode).toBe(401);
    // The caller's refresh token goes on too.
    expect(
      (await call(t, 'POST', '/api/users/refresh', {}, { refresh_token: u.tokens.refresh_token })).statusCode,
    ).toBe(200);
    // The document's spelling still works, from the same session; the old password no longer signs in.
    expectOk(
      await call(t, 'POST', '/api/user/change-password', u.h, {
        current_password: 'a-new-password-1',
        new_password: 'a-new-password-2',
      }),
    );
    rememberSecret('a-new-password-2');
    expectOk(await call(t, 'GET', '/api/user/me', u.h));
    const old = await call(t, 'POST', '/api/auth/login', {}, { username: u.username, password: 'a-new-password-1' });
    expectErr(old, 401, 'INVALID_CREDENTIALS');
  });

  it('without either current password: 400 naming the field, nothing changed', async () => {
    const u = await user(t);
    const err = expectErr(
      await call(t, 'POST', '/api/user/me/change-password', u.h, { new_password: 'a-new-password-3' }),
      400,
      'VALIDATION_ERROR',
    );
    expect(err.details).toHaveProperty('current_password');
    expectOk(await call(t, 'POST', '/api/auth/login', {}, { username: u.username, password: u.password }));
  });
});

describe("9. IM3's envelope and the document's error codes", () => {
  it('an unknown path under IM3 is a 404 NOT_FOUND in its envelope; a wrong method is NOT_FOUND too', async () => {
    const u = await user(t);
    expectErr(await call(t, 'GET', '/api/im3/no-such-thing', u.h), 404, 'NOT_FOUND');
    expectErr(await call(t, 'GET', '/api/user/me/no-such-thing', u.h), 404, 'NOT_FOUND');
    const wrong = await call(t, 'DELETE', '/api/user/me', u.h);
    expectErr(wrong, 405, 'NOT_FOUND');
    expect(wrong.headers.allow).toContain('PUT');
  });

  it('a body that is not JSON is VALIDATION_ERROR (400), never BAD_REQUEST', async () => {
    const res = await call(t, 'POST', '/api/auth/login', { 'content-type': 'application/json' }, '{"username": ');
    expectErr(res, 400, 'VALIDATION_ERROR');
  });

  it('the package the original frontend reads by id (`GET /api/packages/{id}`), PACKAGE_NOT_FOUND otherwise', async () => {
    const u = await user(t);
    const p = await newPackage(t);
    expect(expectOk(await call(t, 'GET', `/api/packages/${p.id}`, u.h))).toEqual(p);
    expectErr(await call(t, 'GET', '/api/packages/999999', u.h), 404, 'PACKAGE_NOT_FOUND');
    // As the original's integer route: a path that is not a number is no route.
    expectErr(await call(t, 'GET', '/api/packages/not-a-number', u.h), 404, 'NOT_FOUND');
  });
});

describe('10. phone_number at registration', () => {
  it('is stored in the document form 628… and shown by /api/user/me', async () => {
    const p = phone();
    const username = `r_${tag()}`;
    const written = `+62 ${p.slice(2, 5)}-${p.slice(5, 9)}-${p.slice(9)}`;
    const reg = expectOk(
      await call(t, 'POST', '/api/auth/register', {}, { username, password: 'password-123', phone_number: written }),
      201,
    );
    expect(reg).toMatchObject({ username, phone_number: p });
    const login = expectOk(await call(t, 'POST', '/api/auth/login', {}, { username, password: 'password-123' }));
    expect(expectOk(await call(t, 'GET', '/api/user/me', bearer(login.access_token))).phone_number).toBe(p);
    // The same number again, in its national form: taken.
    const again = { username: `r_${tag()}`, password: 'password-123', phone_number: `0${p.slice(2)}` };
    expectErr(await call(t, 'POST', '/api/auth/register', {}, again), 409, 'CONFLICT');
  });

  it('an invalid number is one 400 message for the field and registers nobody; null registers without one', async () => {
    const username = `r_${tag()}`;
    const err = expectErr(
      await call(t, 'POST', '/api/auth/register', {}, { username, password: 'password-123', phone_number: '12-34' }),
      400,
      'VALIDATION_ERROR',
    );
    expect(err.details.phone_number).toHaveLength(1);
    const login = await call(t, 'POST', '/api/auth/login', {}, { username, password: 'password-123' });
    expectErr(login, 401, 'INVALID_CREDENTIALS');
    const reg = await call(
      t,
      'POST',
      '/api/auth/register',
      {},
      { username, password: 'password-123', phone_number: null },
    );
    expect(expectOk(reg, 201).phone_number).toBeNull();
  });
});

describe('11. IM3_PROVIDER=http without IM3_PAYMENT_STATUS_PATH', () => {
  it.each(['production', 'development'])('refuses to start in %s, naming the variable', (env) => {
    const { IM3_PAYMENT_STATUS_PATH: _unset, ...rest } = fake.env();
    const start = () =>
      loadConfig({ ...rest, LOKET_ENV: env, LOKET_SECRET: 'x'.repeat(40), DATABASE_URL: 'postgres://db/loket' });
    expect(start).toThrow(/IM3_PAYMENT_STATUS_PATH/);
  });
});

describe('22. token_id on /api/user/me', () => {
  it('null until the number is linked, a non-secret marker while it is, null again once the number changes', async () => {
    const u = await user(t);
    expect(expectOk(await call(t, 'GET', '/api/user/me', u.h)).token_id).toBeNull();
    expectOk(await call(t, 'GET', '/api/im3/send-otp', u.h));
    expectOk(await call(t, 'POST', '/api/im3/verify-otp', u.h, { code: await lastSms(t, u.phone) }));
    const me = expectOk(await call(t, 'GET', '/api/user/me', u.h));
    expect(me.token_id).toMatch(/^im3s_[0-9a-f]{24}$/);
    const row = await t.app.loket.database.db
      .selectFrom('im3_sessions')
      .selectAll()
      .where('account_id', '=', u.id)
      .executeTakeFirstOrThrow();
    expect(row.session_sealed).not.toContain(me.token_id.slice(5));
    expectOk(await call(t, 'PUT', '/api/user/me', u.h, { phone_number: phone() }));
    expect(expectOk(await call(t, 'GET', '/api/user/me', u.h)).token_id).toBeNull();
  });
});

describe('23. the package on transactions', () => {
  it('the list and one transaction carry the whole `package` beside `package_detail`', async () => {
    const u = await linked(t);
    const p = await newPackage(t);
    const bought = expectOk(await call(t, 'POST', `/api/packages/${p.id}/purchase`, u.h), 202);
    expect(bought.package).toEqual(p);
    const one = await statusOf(t, u.h, bought.transaction_id);
    expect(one.package).toEqual(p);
    expect(one.package_detail).toEqual({ id: p.id, package_name: p.package_name, discount_price: p.discount_price });
    const list = expectOk(await call(t, 'GET', '/api/packages/transactions', u.h));
    expect(list[0]).toMatchObject({ id: bought.transaction_id, package: p });
  });
});

describe('24. IM3_STATUS_NAMES=original', () => {
  it("answers PENDING, PROCESSING, then SUCCESS once the QR code is issued (and when paid), in the original's words", async () => {
    const u = await linked(original);
    const p = await newPackage(original);
    const bought = expectOk(await call(original, 'POST', `/api/packages/${p.id}/purchase`, u.h), 202);
    expect(bought.status).toBe('PENDING');
    const issued = await until(original, u.h, bought.transaction_id, 'SUCCESS');
    expect(issued.qr_code).toMatch(/^data:image\/png;base64,/);
    expect(issued.status_history.map((e: { status: string }) => e.status)).toEqual([
      'PENDING',
      'PROCESSING',
      'SUCCESS',
    ]);
    expectOk(await call(original, 'POST', `/_dev/im3/transactions/${bought.transaction_id}/pay`));
    await waitFor('the payment confirmed', async () => {
      const row = await original.app.loket.database.db
        .selectFrom('im3_transactions')
        .select('status')
        .where('id', '=', bought.transaction_id)
        .executeTakeFirstOrThrow();
      return row.status === 'COMPLETED';
    });
    expect((await statusOf(original, u.h, bought.transaction_id)).status).toBe('SUCCESS');
  });

  it('a number that is not eligible ends FAILED, and so does a cancel; the default names stay the document’s', async () => {
    const u = await linked(original, `62812${String(Math.floor(Math.random() * 1e3)).padStart(3, '1')}0000`);
    const p = await newPackage(original);
    const bought = expectOk(
      await call(original, 'POST', '/api/packages/packages/purchase', u.h, { package_id: p.id }),
      202,
    );
    const failed = await until(original, u.h, bought.transaction_id, 'FAILED');
    expect(failed.status_history.at(-1).status).toBe('FAILED');
    const v = await linked(original);
    const again = expectOk(await call(original, 'POST', `/api/packages/${p.id}/purchase`, v.h), 202);
    const cancelled = expectOk(
      await call(original, 'POST', `/api/packages/transactions/${again.transaction_id}/cancel`, v.h),
    );
    expect(cancelled.status).toBe('FAILED');
    // The first app keeps the document's names (waited for in its table: its rate limits are on).
    const w = await linked(t);
    const q = await newPackage(t);
    const doc = expectOk(await call(t, 'POST', `/api/packages/${q.id}/purchase`, w.h), 202);
    await waitFor('the QR code issued', async () => {
      const row = await t.app.loket.database.db
        .selectFrom('im3_transactions')
        .select('status')
        .where('id', '=', doc.transaction_id)
        .executeTakeFirstOrThrow();
      return row.status === 'PAYMENT_INITIATED';
    });
    expect((await statusOf(t, w.h, doc.transaction_id)).status).toBe('PAYMENT_INITIATED');
  });
});

describe('25 and 26. the IM3 profile', () => {
  it("read 30 times in a row: one question to the operator, no 429, the operator's own fields beside ours", async () => {
    // The operator limit counts in fixed one-minute windows: note the window the account's first operator call
    // (send-otp) falls in, to tell a window that ended during the test from a read that was not counted.
    const windowOf = () => Math.floor(Date.now() / 60_000);
    const firstWindow = windowOf();
    const u = await linked(viaHttp);
    const asked = () => fake.requests.filter((r) => r.path === '/api/v2/profile/get').length;
    const before = asked();
    const reads: Res[] = [];
    for (let i = 0; i < 30; i++) reads.push(await call(viaHttp, 'GET', '/api/im3/profile', u.h));
    expect(reads.map((r) => r.statusCode)).toEqual(Array(30).fill(200));
    expect(asked() - before).toBe(1);
    const prof = reads[0]?.json().data;
    expect(prof).toMatchObject({
      msisdn: u.phone,
      mob: u.phone.slice(2),
      fname: `Pelanggan ${u.phone.slice(-4)}`,
      name: `Pelanggan ${u.phone.slice(-4)}`,
      membershipid: expect.any(String),
      currenttier: 'GOLD',
      balance: expect.any(Number),
      status: expect.any(String),
    });
    // Nothing named like a credential is passed on.
    expect(prof).not.toHaveProperty('tokenid_hint');
    expect(JSON.stringify(reads.map((r) => r.body))).not.toContain(fake.lastToken(u.phone));
    // Only the read that reached the operator counted (send-otp, verify-otp, one profile: 3 of 10). When a minute
    // ended between send-otp and that read, the new window holds fewer of them, never more.
    const remaining = Number(reads[0]?.headers['x-ratelimit-remaining']);
    if (windowOf() === firstWindow) expect(remaining).toBe(7);
    else expect(remaining).toBeGreaterThanOrEqual(7);
  });

  it('a new OTP verification is read from the operator again, not from the earlier answer', async () => {
    const u = await linked(viaHttp);
    const asked = () => fake.requests.filter((r) => r.path === '/api/v2/profile/get').length;
    expectOk(await call(viaHttp, 'GET', '/api/im3/profile', u.h));
    const before = asked();
    expectOk(await call(viaHttp, 'GET', '/api/im3/send-otp', u.h));
    expectOk(await call(viaHttp, 'POST', '/api/im3/verify-otp', u.h, { otp: fake.lastOtp(u.phone) }));
    expectOk(await call(viaHttp, 'GET', '/api/im3/profile', u.h));
    expect(asked() - before).toBe(1);
  });

  it("the simulator answers with the operator's fields too (`mob` without 62, `fname`)", async () => {
    const u = await linked(t);
    const prof = expectOk(await call(t, 'GET', '/api/im3/profile', u.h));
    expect(prof).toMatchObject({ msisdn: u.phone, mob: u.phone.slice(2), fname: expect.any(String) });
  });
});
