import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { roomInWindow } from './helpers/clock.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { waitFor } from './helpers/photobox.ts';
import { bearerSecuritySuite } from './helpers/security.ts';
import { jobsSettled, quietPeriod } from './helpers/until.ts';

const ENV = {
  IM3_SIMULATOR_STEP_MS: '50',
  IM3_ELIGIBILITY_INTERVAL_MS: '200',
  IM3_PAYMENT_POLL_MS: '200',
};
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: ENV, config: { modules: ['im3'] } });
});
afterAll(async () => t?.close());

type Res = Pick<LightMyRequestResponse, 'statusCode' | 'json' | 'body'>;
const call = (
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  headers: Record<string, string> = {},
  payload?: object,
) => t.app.inject({ method, url, headers, payload }) as Promise<Res>;
const tag = () => randomBytes(4).toString('hex');
const phone = () => `62812${String(Math.floor(Math.random() * 1e7)).padStart(7, '1')}`;

function expectOk(res: Res, status = 200) {
  expect(res.statusCode, res.body).toBe(status);
  const b = res.json();
  expect(b).toMatchObject({
    success: true,
    request_id: expect.any(String),
    timestamp: expect.any(String),
    message: expect.any(String),
    meta: expect.any(Object),
  });
  expect(b).toHaveProperty('data');
  return b.data;
}
function expectErr(res: Res, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  const b = res.json();
  expect(b).toMatchObject({
    success: false,
    request_id: expect.any(String),
    timestamp: expect.any(String),
    error: { code, message: expect.any(String), details: expect.any(Object) },
  });
  return b.error;
}

async function user(opts: { phone?: string } = {}) {
  const username = `u_${tag()}`;
  const password = `pw-${tag()}-secret`;
  expectOk(await call('POST', '/api/auth/register', {}, { username, password }), 201);
  const login = expectOk(await call('POST', '/api/auth/login', {}, { username, password }));
  const h = bearer(login.access_token);
  if (opts.phone) expectOk(await call('PUT', '/api/user/me', h, { phone_number: opts.phone }));
  return { username, password, h, id: login.user.id as number };
}
async function adminH() {
  const a = await makeAccount(t.app, { im3: 50 });
  return bearer((await tokensFor(t.app, a)).access_token);
}
async function newPackage(fields: Record<string, unknown> = {}) {
  return expectOk(
    await call('POST', '/api/admin/im3/packages', await adminH(), {
      pvr_code: `PVR-${tag()}`,
      keyword: 'DATA5GB',
      discount_price: 45_000,
      normal_price: 50_000,
      package_name: '5GB Internet',
      ...fields,
    }),
    201,
  );
}
async function lastSms(to: string) {
  const res = await call('GET', `/_dev/outbox?to=${to}&channel=sms&limit=1`);
  return res.json().messages[0]?.body as string | undefined;
}
async function verified(p = phone()) {
  const u = await user({ phone: p });
  expectOk(await call('GET', '/api/im3/send-otp', u.h));
  const code = /(\d{6})/.exec((await lastSms(p)) ?? '')?.[1];
  expectOk(await call('POST', '/api/im3/verify-otp', u.h, { code }));
  return { ...u, phone: p };
}
const txOf = async (h: Record<string, string>, id: number) =>
  expectOk(await call('GET', `/api/packages/transactions/${id}`, h));
const until = (h: Record<string, string>, id: number, status: string) =>
  waitFor(
    status,
    async () => {
      const d = await txOf(h, id);
      return d.status === status ? d : undefined;
    },
    20_000,
  );

describe('accounts', () => {
  it('registers, refuses a taken username and bad input with per-field details', async () => {
    const u = await user();
    expectErr(
      await call('POST', '/api/auth/register', {}, { username: u.username, password: 'another-pass' }),
      409,
      'USERNAME_EXISTS',
    );
    const err = expectErr(
      await call('POST', '/api/auth/register', {}, { username: 'a!', password: 'short' }),
      400,
      'VALIDATION_ERROR',
    );
    expect(Object.keys(err.details)).toEqual(expect.arrayContaining(['username', 'password']));
    expectErr(
      await call('POST', '/api/auth/login', {}, { username: u.username, password: 'wrong-password' }),
      401,
      'INVALID_CREDENTIALS',
    );
    expectErr(await call('GET', '/api/user/me'), 401, 'AUTHENTICATION_ERROR');
  });

  it('profile: phone normalised to 62…, unique username, e-mail and phone', async () => {
    const a = await user();
    const b = await user();
    const p = phone();
    const me = expectOk(
      await call('PUT', '/api/user/me', a.h, { phone_number: `0${p.slice(2)}`, email: `${a.username}@example.com` }),
    );
    expect(me).toMatchObject({ phone_number: p, email: `${a.username}@example.com`, username: a.username });
    expect(expectOk(await call('GET', '/api/user/me', a.h)).phone_number).toBe(p);
    expectErr(await call('PUT', '/api/user/me', b.h, { phone_number: `+${p}` }), 409, 'CONFLICT');
    expectErr(await call('PUT', '/api/user/me', b.h, { email: `${a.username}@example.com` }), 409, 'CONFLICT');
    expectErr(await call('PUT', '/api/user/me', b.h, { username: a.username }), 409, 'USERNAME_EXISTS');
    expectErr(await call('PUT', '/api/user/me', b.h, { phone_number: '12345' }), 400, 'VALIDATION_ERROR');
  });

  it('changes the password at both paths', async () => {
    const u = await user();
    expectErr(
      await call('POST', '/api/user/me/change-password', u.h, {
        current_password: 'nope-nope',
        new_password: 'new-password-1',
      }),
      401,
      'INVALID_CREDENTIALS',
    );
    const d = expectOk(
      await call('POST', '/api/user/me/change-password', u.h, {
        current_password: u.password,
        new_password: 'new-password-1',
      }),
    );
    const h = bearer(d.access_token);
    expectOk(
      await call('POST', '/api/user/change-password', h, {
        current_password: 'new-password-1',
        new_password: 'new-password-2',
      }),
    );
    expectOk(await call('POST', '/api/auth/login', {}, { username: u.username, password: 'new-password-2' }));
  });

  it('USER_NOT_FOUND when the account vanished behind a still-valid token', async () => {
    const u = await user();
    expectOk(await call('GET', '/api/user/me', u.h)); // the guard's account state is cached now
    await t.app.loket.database.db
      .updateTable('accounts')
      .set({ deleted_at: new Date() })
      .where('id', '=', u.id)
      .execute();
    expectErr(await call('GET', '/api/user/me', u.h), 404, 'USER_NOT_FOUND');
  });
});

describe('packages', () => {
  it('admins manage them; users list them at both paths', async () => {
    const p = await newPackage();
    expect(p).toMatchObject({ keyword: 'DATA5GB', discount_price: 45_000, normal_price: 50_000 });
    expectErr(
      await call('POST', '/api/admin/im3/packages', await adminH(), {
        ...p,
        id: undefined,
        created_at: undefined,
        updated_at: undefined,
      }),
      409,
      'CONFLICT',
    );
    const u = await user();
    expectErr(await call('POST', '/api/admin/im3/packages', u.h, { pvr_code: 'x' }), 403, 'AUTHORIZATION_ERROR');
    for (const url of ['/api/packages/packages', '/api/packages/']) {
      expect((expectOk(await call('GET', url, u.h)) as { id: number }[]).map((x) => x.id)).toContain(p.id);
    }
    const upd = expectOk(
      await call('PUT', `/api/admin/im3/packages/${p.id}`, await adminH(), { discount_price: 40_000 }),
    );
    expect(upd.discount_price).toBe(40_000);
    expectErr(await call('GET', '/api/admin/im3/packages/999999', await adminH()), 404, 'PACKAGE_NOT_FOUND');
    expectOk(await call('DELETE', `/api/admin/im3/packages/${p.id}`, await adminH()));
    expectErr(
      await call('POST', '/api/packages/packages/purchase', u.h, { package_id: p.id }),
      404,
      'PACKAGE_NOT_FOUND',
    );
    expectErr(await call('GET', '/api/packages/nope-route', u.h), 404, 'NOT_FOUND');
  });

  it('fields the package does not declare are ignored, never written (found by the fuzz run: a 500 before)', async () => {
    const p = await newPackage({ id: 987_654, created_at: '2000-01-01T00:00:00Z', saldo: 1, constructor: 'x' });
    expect(p.id).not.toBe(987_654);
    expect(p.created_at).not.toContain('2000-01-01');
    const upd = expectOk(
      await call('PUT', `/api/admin/im3/packages/${p.id}`, await adminH(), {
        discount_price: 41_000,
        id: 987_655,
        constructor: '0',
      }),
    );
    expect(upd).toMatchObject({ id: p.id, discount_price: 41_000 });
    expect(await t.app.loket.database.db.selectFrom('im3_packages').where('id', '>=', 987_654).execute()).toEqual([]);
  });

  it('a URL the router cannot read under /_dev/im3 answers in IM3 envelope (found by the fuzz run)', async () => {
    const res = await call('POST', `/_dev/im3/transactions/${'9'.repeat(101)}/pay`);
    expect(res.statusCode, res.body).toBe(414);
    expect(res.json()).toMatchObject({ success: false, error: { code: 'URI_TOO_LONG' } });
  });
});

describe('operator and purchases', () => {
  it('OTP by SMS; wrong code IM3_AUTH_ERROR; `otp` spelling; profile; no session ever returned', async () => {
    const u0 = await user();
    expectErr(await call('GET', '/api/im3/send-otp', u0.h), 422, 'BUSINESS_LOGIC_ERROR');
    const p = phone();
    const u = await user({ phone: p });
    expectErr(await call('GET', '/api/im3/profile', u.h), 422, 'BUSINESS_LOGIC_ERROR');
    const sent = await call('GET', '/api/im3/send-otp', u.h);
    expectOk(sent);
    const code = /(\d{6})/.exec((await lastSms(p)) ?? '')?.[1] as string;
    expect(code).toMatch(/^\d{6}$/);
    const wrong = code === '000000' ? '111111' : '000000';
    expectErr(await call('POST', '/api/im3/verify-otp', u.h, { otp: wrong }), 502, 'IM3_AUTH_ERROR');
    expectErr(await call('POST', '/api/im3/verify-otp', u.h, {}), 400, 'VALIDATION_ERROR');
    const v = await call('POST', '/api/im3/verify-otp', u.h, { otp: code });
    expectOk(v);
    expect(v.body).not.toMatch(/sim\./);
    const prof = expectOk(await call('GET', '/api/im3/profile', u.h));
    expect(prof.msisdn).toBe(p);
    const row = await t.app.loket.database.db
      .selectFrom('im3_sessions')
      .selectAll()
      .where('account_id', '=', u.id)
      .executeTakeFirstOrThrow();
    expect(row.session_sealed).not.toMatch(/sim\./);
    expect(t.logs.text).not.toContain(code);
  });

  it('walks every status in order to COMPLETED with a PNG QR; one open purchase per package; own only', async () => {
    const pkg = await newPackage();
    const u = await verified();
    expectErr(await call('POST', '/api/packages/packages/purchase', u.h, { package_id: 'x' }), 400, 'VALIDATION_ERROR');
    const d = expectOk(await call('POST', '/api/packages/packages/purchase', u.h, { package_id: pkg.id }), 202);
    expect(d).toMatchObject({
      status: 'PENDING',
      task_id: expect.any(String),
      package_detail: { id: pkg.id, discount_price: 45_000 },
    });
    expectErr(await call('POST', `/api/packages/${pkg.id}/purchase`, u.h), 409, 'CONFLICT');
    const other = await user();
    expectErr(await call('GET', `/api/packages/transactions/${d.transaction_id}`, other.h), 404, 'NOT_FOUND');
    expect(expectOk(await call('GET', '/api/packages/transactions', other.h))).toEqual([]);

    const initiated = await until(u.h, d.transaction_id, 'PAYMENT_INITIATED');
    expect(initiated.qr_code).toMatch(/^data:image\/png;base64,/);
    const png = Buffer.from(initiated.qr_code.split(',')[1], 'base64');
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expectOk(await call('POST', `/_dev/im3/transactions/${d.transaction_id}/pay`));
    const done = await until(u.h, d.transaction_id, 'COMPLETED');
    expect(done.status_history.map((e: { status: string }) => e.status)).toEqual([
      'PENDING',
      'PROCESSING',
      'CHECKING_ELIGIBILITY',
      'WAITING_FOR_ELIGIBILITY',
      'INITIATING_PAYMENT',
      'PAYMENT_INITIATED',
      'COMPLETED',
    ]);
    const list = expectOk(await call('GET', '/api/packages/transactions', u.h));
    expect(list[0].id).toBe(d.transaction_id);
    // Final: a new purchase of the same package is allowed again; cancel of a final one is refused.
    expectErr(
      await call('POST', `/api/packages/transactions/${d.transaction_id}/cancel`, u.h),
      422,
      'BUSINESS_LOGIC_ERROR',
    );
    expectOk(await call('POST', `/api/packages/${pkg.id}/purchase`, u.h), 202);
  });

  it('a number ending in 0000 is not eligible: FAILED', async () => {
    const pkg = await newPackage();
    const u = await verified(`628129${String(Math.floor(Math.random() * 1e3)).padStart(3, '1')}0000`);
    const d = expectOk(await call('POST', `/api/packages/${pkg.id}/purchase`, u.h), 202);
    const failed = await until(u.h, d.transaction_id, 'FAILED');
    expect(failed.status_history.map((e: { status: string }) => e.status)).toEqual([
      'PENDING',
      'PROCESSING',
      'CHECKING_ELIGIBILITY',
      'WAITING_FOR_ELIGIBILITY',
      'FAILED',
    ]);
  });

  it('cancel while open → CANCELLED; unpaid past the deadline → FAILED', async () => {
    const pkg = await newPackage();
    const u = await verified();
    const a = expectOk(await call('POST', `/api/packages/${pkg.id}/purchase`, u.h), 202);
    const c = expectOk(await call('POST', `/api/packages/transactions/${a.transaction_id}/cancel`, u.h));
    expect(c.status).toBe('CANCELLED');
    await jobsSettled(t.app);
    expect((await txOf(u.h, a.transaction_id)).status).toBe('CANCELLED');

    const b = expectOk(await call('POST', `/api/packages/${pkg.id}/purchase`, u.h), 202);
    await until(u.h, b.transaction_id, 'PAYMENT_INITIATED');
    await t.app.loket.database.db
      .updateTable('im3_transactions')
      .set({ payment_deadline: new Date(Date.now() - 1000) })
      .where('id', '=', b.transaction_id)
      .execute();
    const f = await until(u.h, b.transaction_id, 'FAILED');
    expect(f.error_message).toMatch(/in time/);
  });

  it('a status and its history entry change together: while the entry cannot be written the status stays', async () => {
    const pkg = await newPackage();
    const u = await verified();
    const { transaction_id: id } = expectOk(await call('POST', `/api/packages/${pkg.id}/purchase`, u.h), 202);
    await until(u.h, id, 'PAYMENT_INITIATED');
    const { db } = t.app.loket.database;
    // The database refuses this purchase's FAILED entry for a while, then the payment deadline passes.
    await sql
      .raw(
        `CREATE FUNCTION im3_refuse_failed_${id}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
           IF NEW.transaction_id = ${id} AND NEW.status = 'FAILED' THEN RAISE EXCEPTION 'refused by the test'; END IF;
           RETURN NEW; END $$;
         CREATE TRIGGER im3_refuse_failed_${id} BEFORE INSERT ON im3_transaction_events
           FOR EACH ROW EXECUTE FUNCTION im3_refuse_failed_${id}()`,
      )
      .execute(db);
    try {
      await db
        .updateTable('im3_transactions')
        .set({ payment_deadline: new Date(Date.now() - 1000) })
        .where('id', '=', id)
        .execute();
      await waitFor(
        'a refused failure',
        async () => (t.logs.text.includes('refused by the test') ? true : undefined),
        10_000,
      );
      for (let i = 0; i < 5; i++) {
        const d = await txOf(u.h, id);
        expect(d.status).toBe('PAYMENT_INITIATED');
        expect(d.status_history.at(-1).status).toBe('PAYMENT_INITIATED');
        await quietPeriod(100, 'the status must stay while its history entry is refused');
      }
    } finally {
      await sql.raw(`DROP TRIGGER im3_refuse_failed_${id} ON im3_transaction_events`).execute(db);
    }
    // The step is retried and the purchase fails, with its entry.
    const f = await until(u.h, id, 'FAILED');
    expect(f.error_message).toMatch(/in time/);
    expect(f.status_history.map((e: { status: string }) => e.status).slice(-2)).toEqual([
      'PAYMENT_INITIATED',
      'FAILED',
    ]);
  });

  it("a number's operator session does not buy for the account's next number", async () => {
    const pkg = await newPackage();
    const u = await verified();
    // The number changes but the old number's session is still stored (a crash between the two writes).
    await t.app.loket.database.db.updateTable('accounts').set({ phone: phone() }).where('id', '=', u.id).execute();
    await t.app.loket.identity.authState.changed(u.id);
    const err = expectErr(await call('POST', `/api/packages/${pkg.id}/purchase`, u.h), 422, 'BUSINESS_LOGIC_ERROR');
    expect(err.message).toMatch(/Verify your IM3 number/);
    expect(
      await t.app.loket.database.db
        .selectFrom('im3_transactions')
        .where('account_id', '=', u.id)
        .select('id')
        .execute(),
    ).toEqual([]);
  });

  it('purchase without a verified number is a BUSINESS_LOGIC_ERROR', async () => {
    const pkg = await newPackage();
    const u = await user({ phone: phone() });
    expectErr(
      await call('POST', '/api/packages/packages/purchase', u.h, { package_id: pkg.id }),
      422,
      'BUSINESS_LOGIC_ERROR',
    );
  });

  it('/api/health reports database, Redis and job queue', async () => {
    const d = expectOk(await call('GET', '/api/health'));
    expect(Object.keys(d.checks)).toEqual(['database', 'redis', 'job_queue']);
  });
});

describe('security', () => {
  for (const route of [
    { method: 'GET' as const, url: '/api/user/me', module: 'im3', minLevel: 1 },
    { method: 'GET' as const, url: '/api/packages/packages', module: 'im3', minLevel: 1 },
    { method: 'GET' as const, url: '/api/packages/transactions', module: 'im3', minLevel: 1 },
    { method: 'GET' as const, url: '/api/im3/send-otp', module: 'im3', minLevel: 1 },
    { method: 'GET' as const, url: '/api/admin/im3/packages', module: 'im3', minLevel: 50 },
  ]) {
    bearerSecuritySuite(() => t, route);
  }
});

describe('rate limits and unhealthy', () => {
  let r: TestApp;
  beforeAll(async () => {
    r = await startTestApp({ env: ENV, config: { modules: ['im3'], rateLimits: true } });
  });
  afterAll(async () => r?.close());
  // Each burst must fit in one of the limiter's one-minute windows.
  beforeEach(() => roomInWindow(60_000, 20_000), 30_000);

  it('auth: 5 per minute per IP; then 429 in the IM3 envelope', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await r.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { username: `rl_${tag()}`, password: 'password-123' },
      });
      codes.push(res.statusCode);
    }
    expect(codes.slice(0, 5)).toEqual([201, 201, 201, 201, 201]);
    expect(codes[5]).toBe(429);
  });

  // Accounts made directly (the register limit above is spent for this IP); tokens by the core's token route.
  const limitedUser = async () => {
    const a = await makeAccount(r.app, { im3: 1 });
    return bearer((await tokensFor(r.app, a)).access_token);
  };
  const hits = async (h: Record<string, string>, method: 'GET' | 'POST', url: string, n: number) => {
    const out: LightMyRequestResponse[] = [];
    for (let i = 0; i < n; i++) out.push(await r.app.inject({ method, url, headers: h }));
    return out;
  };
  const expect429 = (res: Pick<LightMyRequestResponse, 'statusCode' | 'headers' | 'json'>, max: number) => {
    expect(res.statusCode).toBe(429);
    expect(res.json()).toMatchObject({
      success: false,
      request_id: expect.any(String),
      error: { code: 'RATE_LIMITED', message: expect.any(String) },
    });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.headers['x-ratelimit-limit']).toBe(String(max));
    expect(res.headers['x-ratelimit-remaining']).toBe('0');
  };

  it('operator 10, packages 20, other 60 per minute per account, each its own bucket', async () => {
    const a = await limitedUser();
    const b = await limitedUser();
    // Operator routes (no verified number: 422, which still counts), shared by send-otp, verify-otp and profile.
    const op = [
      ...(await hits(a, 'GET', '/api/im3/profile', 5)),
      ...(await hits(a, 'POST', '/api/im3/send-otp', 5)),
      ...(await hits(a, 'GET', '/api/im3/profile', 1)),
    ];
    expect(op.slice(0, 10).map((x) => x.statusCode)).toEqual(Array(10).fill(422));
    expect(op[0]?.headers['x-ratelimit-limit']).toBe('10');
    expect429(op[10] as (typeof op)[number], 10);

    // Packages: the catalogue and the purchase routes share 20.
    const pk = [
      ...(await hits(a, 'GET', '/api/packages/packages', 15)),
      ...(await hits(a, 'GET', '/api/packages/transactions', 5)),
      ...(await hits(a, 'GET', '/api/packages/', 1)),
    ];
    expect(pk.slice(0, 20).map((x) => x.statusCode)).toEqual(Array(20).fill(200));
    expect429(pk[20] as (typeof pk)[number], 20);

    // Other: /api/user/me, 60; the other two buckets being spent does not touch it.
    const other = await hits(a, 'GET', '/api/user/me', 61);
    expect(other.slice(0, 60).map((x) => x.statusCode)).toEqual(Array(60).fill(200));
    expect429(other[60] as (typeof other)[number], 60);

    // Another account of the same IP has all of its own.
    expect((await hits(b, 'GET', '/api/im3/profile', 1))[0]?.statusCode).toBe(422);
    expect((await hits(b, 'GET', '/api/packages/packages', 1))[0]?.statusCode).toBe(200);
    expect((await hits(b, 'GET', '/api/user/me', 1))[0]?.statusCode).toBe(200);
  });

  it('503 when the job queue is down', async () => {
    await r.app.loket.jobs.stop(5000);
    const res = await r.app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ success: false, error: { code: 'SERVICE_UNAVAILABLE' } });
  });
});
