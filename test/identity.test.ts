import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKey } from '../src/core/crypto.ts';
import { withTransaction } from '../src/core/db/transaction.ts';
import { hashPassword } from '../src/core/identity/passwords.ts';
import { guardModule } from './fixtures/guard-module.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { untilBlocked } from './helpers/until.ts';

const clock = fakeClock();
let t: TestApp;
const secretsSeen: string[] = [];

beforeAll(async () => {
  // IM3's module brings `/api/auth/login` (the JSON sign-in these tests also use).
  t = await startTestApp({ config: { modules: ['im3'] }, overrides: { extraModules: [guardModule], now: clock.now } });
});
afterAll(async () => {
  // No password, token, key or code that appeared during these tests was ever written to the log.
  const text = t.logs.text;
  for (const s of secretsSeen) expect(text.includes(s), 'a secret reached the log').toBe(false);
  await t?.close();
});

const keep = (...values: string[]) => {
  secretsSeen.push(...values);
};

describe('sign in', () => {
  it('issues a bearer token pair from the OAuth2 form and from JSON, by e-mail or username (any case)', async () => {
    const a = await makeAccount(t.app, { billing: 10 });
    keep(a.password);
    const form = await tokensFor(t.app, a);
    expect(form).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
    keep(form.access_token, form.refresh_token);
    const json = await t.app.inject({
      method: 'POST',
      url: '/api/users/token',
      payload: { username: a.username.toUpperCase(), password: a.password },
    });
    expect(json.statusCode).toBe(200);
    keep(json.json().access_token, json.json().refresh_token);
    const im3 = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: a.username, password: a.password },
    });
    expect(im3.statusCode).toBe(200);
    expect(im3.json()).toMatchObject({
      success: true,
      message: 'Login successful',
      data: { user: { id: a.id, username: a.username, email: a.email }, token_type: 'bearer' },
    });
    keep(im3.json().data.access_token, im3.json().data.refresh_token);
    expect(im3.body).not.toContain(a.password);
  });

  it('refuses a wrong password and an unknown user alike, in each shape', async () => {
    const a = await makeAccount(t.app);
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/users/token',
      payload: { username: a.email, password: 'nope-nope' },
    });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/users/token',
      payload: { username: 'ghost@example.com', password: 'nope-nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json()).toMatchObject({ error_code: 'INVALID_CREDENTIALS', status: 'error' });
    const im3 = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: a.username, password: 'x' },
    });
    expect(im3.statusCode).toBe(401);
    expect(im3.json().error.code).toBe('INVALID_CREDENTIALS');
  });

  it('takes as long for an unknown user as for a wrong password', async () => {
    const a = await makeAccount(t.app);
    const time = async (username: string) => {
      const t0 = performance.now();
      await t.app.inject({
        method: 'POST',
        url: '/api/users/token',
        payload: { username, password: 'wrong-password' },
      });
      return performance.now() - t0;
    };
    await time(a.email); // warm-up
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(await time(a.email));
      unknown.push(await time(`nobody-${i}@example.com`));
    }
    // Medians, so that one answer slowed by a busy machine (CI runs many test files at once) does not decide.
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
    // Both run one argon2id verification (tens of milliseconds); without the dummy hash an unknown user would
    // answer in well under a millisecond, a ratio near 0.01, far below these bounds.
    expect(median(unknown) / median(known)).toBeGreaterThan(0.4);
    expect(median(unknown) / median(known)).toBeLessThan(2.5);
  });

  it('tells a disabled account apart only after the right password, and refuses it', async () => {
    const a = await makeAccount(t.app);
    await t.app.loket.database.db.updateTable('accounts').set({ status: 'disabled' }).where('id', '=', a.id).execute();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/users/token',
      payload: { username: a.email, password: a.password },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error_code).toBe('ACCOUNT_DISABLED');
  });

  it('names each invalid field', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/users/token', payload: { username: '' } });
    expect(res.statusCode).toBe(422);
    expect(JSON.stringify(res.json())).toContain('password');
  });
});

describe('bearer tokens are checked completely', () => {
  const forge = async (
    opts: { alg?: string; typ?: string; exp?: number; secret?: string; jti?: boolean },
    sub: number,
  ) => {
    const key = new Uint8Array(deriveKey(opts.secret ?? t.config.secret, 'jwt-hs256'));
    const { createHash } = await import('node:crypto');
    const kid = createHash('sha256').update(key).digest('hex').slice(0, 12);
    const now = Math.floor(clock.now().getTime() / 1000);
    let jwt = new SignJWT({ fam: randomUUID(), sv: 0 })
      .setProtectedHeader({ alg: 'HS256', typ: opts.typ ?? 'at+jwt', kid })
      .setSubject(String(sub))
      .setIssuer('loket')
      .setAudience('loket')
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(opts.exp ?? now + 600);
    if (opts.jti !== false) jwt = jwt.setJti(randomUUID());
    return jwt.sign(key);
  };

  it('accepts a properly signed token (the control case)', async () => {
    const a = await makeAccount(t.app, { photobox: 50 });
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/probe-guard/photobox-admin',
      headers: bearer(await forge({}, a.id)),
    });
    expect(res.statusCode).toBe(200);
  });

  it.each([
    [
      'alg none',
      async (id: number) => {
        const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const now = Math.floor(Date.now() / 1000);
        return `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ sub: String(id), iss: 'loket', aud: 'loket', iat: now, nbf: now, exp: now + 600, jti: 'x', sv: 0 })}.`;
      },
    ],
    ['a guessed key', (id: number) => forge({ secret: 'someone-else-guessed-this-secret-value-000' }, id)],
    ['an expired exp', (id: number) => forge({ exp: Math.floor(clock.now().getTime() / 1000) - 60 }, id)],
    ['a wrong typ', (id: number) => forge({ typ: 'JWT' }, id)],
    ['no jti', (id: number) => forge({ jti: false }, id)],
    ['garbage', async () => 'not.a.token'],
  ])('refuses %s with 401', async (_name, make) => {
    const a = await makeAccount(t.app, { photobox: 50 });
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/probe-guard/photobox-admin',
      headers: bearer(await make(a.id)),
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json().error_code).toBe('AUTHENTICATION_ERROR');
  });

  it('expires a real token after its lifetime (fake clock)', async () => {
    const a = await makeAccount(t.app, { photobox: 1 });
    const { access_token } = await tokensFor(t.app, a);
    const url = '/api/probe-guard/photobox-read';
    expect((await t.app.inject({ method: 'GET', url, headers: bearer(access_token) })).statusCode).toBe(200);
    clock.advance(61 * 60_000);
    const res = await t.app.inject({ method: 'GET', url, headers: bearer(access_token) });
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toContain('expired');
  });

  it('401 without credentials, 403 for a level too low, 200 at or above it', async () => {
    const url = '/api/probe-guard/photobox-admin';
    expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(401);
    const reader = await makeAccount(t.app, { photobox: 1, billing: 50 });
    const admin = await makeAccount(t.app, { photobox: 50 });
    const platform = await makeAccount(t.app, { platform: 100 });
    const low = await t.app.inject({
      method: 'GET',
      url,
      headers: bearer((await tokensFor(t.app, reader)).access_token),
    });
    expect(low.statusCode).toBe(403);
    expect(low.json().error_code).toBe('AUTHORIZATION_ERROR');
    const ok = await t.app.inject({
      method: 'GET',
      url,
      headers: bearer((await tokensFor(t.app, admin)).access_token),
    });
    expect(ok.json()).toEqual({ account: admin.id, level: 50 });
    const top = await t.app.inject({
      method: 'GET',
      url,
      headers: bearer((await tokensFor(t.app, platform)).access_token),
    });
    expect(top.json().level).toBe(100);
  });
});

describe('refresh tokens', () => {
  it('rotate on every use; reusing a used one ends the whole family', async () => {
    const a = await makeAccount(t.app, { photobox: 1 });
    const first = await tokensFor(t.app, a);
    keep(first.refresh_token);
    const second = await t.app.inject({
      method: 'POST',
      url: '/api/users/refresh',
      payload: { refresh_token: first.refresh_token },
    });
    expect(second.statusCode).toBe(200);
    const pair2 = second.json();
    keep(pair2.refresh_token, pair2.access_token);
    expect(pair2.refresh_token).not.toBe(first.refresh_token);

    // Past the 30 s grace a replay is a theft.
    clock.advance(31_000);
    const replay = await t.app.inject({
      method: 'POST',
      url: '/api/users/refresh',
      payload: { refresh_token: first.refresh_token },
    });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().detail).toContain('reuse');
    // The thief's replay also ended the legitimate holder's newer token.
    const after = await t.app.inject({
      method: 'POST',
      url: '/api/users/refresh',
      payload: { refresh_token: pair2.refresh_token },
    });
    expect(after.statusCode).toBe(401);
  });

  it('a used one presented again within 30 s answers the successor already issued (parallel refreshes)', async () => {
    const a = await makeAccount(t.app, { photobox: 1 });
    const first = await tokensFor(t.app, a);
    const refresh = () =>
      t.app.inject({ method: 'POST', url: '/api/users/refresh', payload: { refresh_token: first.refresh_token } });
    // Four requests of a page that all got a 401 refresh the same token at once.
    const answers = await Promise.all([refresh(), refresh(), refresh(), refresh()]);
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    const successors = new Set(answers.map((r) => r.json().refresh_token));
    expect(successors.size).toBe(1);
    const successor = String([...successors][0]);
    keep(successor);
    for (const r of answers) {
      const probe = await t.app.inject({
        method: 'GET',
        url: '/api/probe-guard/photobox-read',
        headers: bearer(r.json().access_token),
      });
      expect(probe.statusCode).toBe(200);
    }
    // One family: a single live refresh token, and it still rotates. (The clock also runs in real time: 20 s
    // leaves room for a slow machine.)
    clock.advance(20_000);
    expect((await refresh()).json().refresh_token).toBe(successor);
    const next = await t.app.inject({
      method: 'POST',
      url: '/api/users/refresh',
      payload: { refresh_token: successor },
    });
    expect(next.statusCode).toBe(200);
    expect(next.json().refresh_token).not.toBe(successor);
    // After the grace the first token is a replay: the family ends, the newest token included.
    clock.advance(11_000);
    expect((await refresh()).statusCode).toBe(401);
    const after = await t.app.inject({
      method: 'POST',
      url: '/api/users/refresh',
      payload: { refresh_token: next.json().refresh_token },
    });
    expect(after.statusCode).toBe(401);
  });

  it('after a logout, the grace gives nothing back', async () => {
    const a = await makeAccount(t.app, { photobox: 1 });
    const first = await tokensFor(t.app, a);
    const rotated = await t.app.inject({
      method: 'POST',
      url: '/api/users/refresh',
      payload: { refresh_token: first.refresh_token },
    });
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/users/logout',
      headers: bearer(rotated.json().access_token),
    });
    expect(out.statusCode).toBe(200);
    const replay = await t.app.inject({
      method: 'POST',
      url: '/api/users/refresh',
      payload: { refresh_token: first.refresh_token },
    });
    expect(replay.statusCode).toBe(401);
  });

  it('are stored only as hashes', async () => {
    const a = await makeAccount(t.app);
    const { refresh_token } = await tokensFor(t.app, a);
    const rows = await t.app.loket.database.db
      .selectFrom('refresh_tokens')
      .select('token_hash')
      .where('account_id', '=', a.id)
      .execute();
    expect(rows.length).toBe(1);
    expect(rows[0]?.token_hash).not.toContain(refresh_token.slice(4, 20));
    expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('logout and password changes', () => {
  it('a login whose password check overlaps a password change does not start a session', async () => {
    const a = await makeAccount(t.app, { photobox: 1 });
    keep(a.password);
    const { db } = t.app.loket.database;
    const newHash = await hashPassword('a-new-password-123');
    let login: ReturnType<typeof tokensFor> | undefined;
    // The change is written and held uncommitted while the old password is being checked, then it commits.
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('accounts')
        .set((eb) => ({ password_hash: newHash, session_version: eb('session_version', '+', 1) }))
        .where('id', '=', a.id)
        .execute();
      login = tokensFor(t.app, a).catch((e: Error) => e as never);
      await untilBlocked(t.app, 'the sign-in to wait for the uncommitted password change');
    });
    const result = (await login) as unknown;
    expect(result).toBeInstanceOf(Error);
    expect(String(result)).toMatch(/login failed: 401/);
    const sessions = await db
      .selectFrom('refresh_tokens')
      .select('id')
      .where('account_id', '=', a.id)
      .where('revoked_at', 'is', null)
      .execute();
    expect(sessions).toEqual([]);
  });

  it('logout ends the access token at once and its refresh token', async () => {
    const a = await makeAccount(t.app, { photobox: 1 });
    const pair = await tokensFor(t.app, a);
    const url = '/api/probe-guard/photobox-read';
    expect((await t.app.inject({ method: 'GET', url, headers: bearer(pair.access_token) })).statusCode).toBe(200);
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/users/logout',
      headers: bearer(pair.access_token),
      payload: { refresh_token: pair.refresh_token },
    });
    expect(out.statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url, headers: bearer(pair.access_token) })).statusCode).toBe(401);
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/api/users/refresh',
      payload: { refresh_token: pair.refresh_token },
    });
    expect(refresh.statusCode).toBe(401);
    // The body is optional: the token's own refresh family ends either way.
    const other = await tokensFor(t.app, a);
    const out2 = await t.app.inject({ method: 'POST', url: '/api/users/logout', headers: bearer(other.access_token) });
    expect(out2.statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url, headers: bearer(other.access_token) })).statusCode).toBe(401);
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/users/refresh',
      payload: { refresh_token: other.refresh_token },
    });
    expect(again.statusCode).toBe(401);
  });

  it('changing the password ends every other session and keeps this one', async () => {
    const a = await makeAccount(t.app, { photobox: 1 });
    const other = await tokensFor(t.app, a);
    const mine = await tokensFor(t.app, a);
    const claims = await t.app.loket.identity.sessions.verifyAccess(mine.access_token);
    const fresh = await t.app.loket.identity.service.changePassword(
      a.id,
      claims.family,
      a.password,
      'a-brand-new-password',
      {
        requestId: 'test',
        ip: null,
      },
    );
    keep('a-brand-new-password', fresh.access_token, fresh.refresh_token);
    const url = '/api/probe-guard/photobox-read';
    expect((await t.app.inject({ method: 'GET', url, headers: bearer(other.access_token) })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url, headers: bearer(fresh.access_token) })).statusCode).toBe(200);
    const otherRefresh = await t.app.inject({
      method: 'POST',
      url: '/api/users/refresh',
      payload: { refresh_token: other.refresh_token },
    });
    expect(otherRefresh.statusCode).toBe(401);
    const myRefresh = await t.app.inject({
      method: 'POST',
      url: '/api/users/refresh',
      payload: { refresh_token: fresh.refresh_token },
    });
    expect(myRefresh.statusCode).toBe(200);
    const oldLogin = await t.app.inject({
      method: 'POST',
      url: '/api/users/token',
      payload: { username: a.email, password: a.password },
    });
    expect(oldLogin.statusCode).toBe(401);
  });

  it('a password shorter than the policy is refused', async () => {
    const a = await makeAccount(t.app);
    await expect(
      t.app.loket.identity.service.changePassword(a.id, undefined, a.password, 'short', { requestId: null, ip: null }),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });
});

describe('platform admin API', () => {
  let admin: string;
  beforeAll(async () => {
    const p = await makeAccount(t.app, { platform: 100 });
    admin = (await tokensFor(t.app, p)).access_token;
  });

  it('creates an account without echoing its password, and refuses a duplicate e-mail in any case', async () => {
    const payload = {
      email: 'Kasir.Satu@Example.com',
      name: 'Kasir Satu',
      password: 'kasir-satu-password',
      memberships: { photobox: 10, staff: 1 },
    };
    keep(payload.password);
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/accounts', headers: bearer(admin), payload });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      email: 'Kasir.Satu@Example.com',
      memberships: { photobox: 10, staff: 1 },
      status: 'active',
    });
    expect(res.body).not.toContain('kasir-satu-password');
    expect(res.body).not.toContain('argon2');
    const dup = await t.app.inject({
      method: 'POST',
      url: '/api/admin/accounts',
      headers: bearer(admin),
      payload: { ...payload, email: 'kasir.satu@example.COM' },
    });
    expect(dup.statusCode).toBe(409);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/users/token',
      payload: { username: 'kasir.satu@example.com', password: 'kasir-satu-password' },
    });
    expect(login.statusCode).toBe(200);
    keep(login.json().access_token, login.json().refresh_token);
  });

  it('validates what it is given and changes nothing on bad input', async () => {
    const before = (
      await t.app.inject({ method: 'GET', url: '/api/admin/accounts?limit=1000', headers: bearer(admin) })
    ).json().total;
    for (const payload of [
      { name: 'No login', memberships: {} },
      { email: 'not-an-email', name: 'x', memberships: {} },
      { email: 'ok@example.com', name: 'x', memberships: { bank: 50 } },
      { email: 'ok@example.com', name: 'x', memberships: { photobox: 500 } },
      { email: 'ok@example.com', name: 'x', memberships: { platform: 50 } },
      { email: 'ok@example.com', name: 'x', password: 'short', memberships: {} },
    ]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/admin/accounts', headers: bearer(admin), payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().error_code).toBe('VALIDATION_ERROR');
    }
    const after = (
      await t.app.inject({ method: 'GET', url: '/api/admin/accounts?limit=1000', headers: bearer(admin) })
    ).json().total;
    expect(after).toBe(before);
  });

  it('disabling an account ends its sessions at once; deleting hides it', async () => {
    const a = await makeAccount(t.app, { photobox: 1 });
    const pair = await tokensFor(t.app, a);
    const url = '/api/probe-guard/photobox-read';
    expect((await t.app.inject({ method: 'GET', url, headers: bearer(pair.access_token) })).statusCode).toBe(200);
    const patch = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/accounts/${a.id}`,
      headers: bearer(admin),
      payload: { status: 'disabled' },
    });
    expect(patch.statusCode).toBe(200);
    expect(patch.json().status).toBe('disabled');
    expect((await t.app.inject({ method: 'GET', url, headers: bearer(pair.access_token) })).statusCode).toBe(401);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/admin/accounts/${a.id}`, headers: bearer(admin) });
    expect(del.statusCode).toBe(204);
    const gone = await t.app.inject({ method: 'GET', url: `/api/admin/accounts/${a.id}`, headers: bearer(admin) });
    expect(gone.statusCode).toBe(404);
  });

  it('is for platform admins only', async () => {
    const moduleAdmin = await makeAccount(t.app, { photobox: 50, billing: 50, ppob: 50, staff: 50, im3: 50 });
    const tok = (await tokensFor(t.app, moduleAdmin)).access_token;
    for (const [method, url] of [
      ['GET', '/api/admin/accounts'],
      ['POST', '/api/admin/accounts'],
      ['GET', `/api/admin/accounts/${moduleAdmin.id}`],
      ['GET', '/api/activity-logs'],
    ] as const) {
      const res = await t.app.inject({
        method,
        url,
        headers: bearer(tok),
        payload: method === 'POST' ? {} : undefined,
      });
      expect(res.statusCode, url).toBe(403);
      expect((await t.app.inject({ method, url })).statusCode, url).toBe(401);
    }
  });

  it('writes every admin action to the activity log, with who, what, request id and before/after', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/admin/accounts',
      headers: { ...bearer(admin), 'x-request-id': 'audit-check-1' },
      payload: { username: 'audited_user', name: 'Audited', memberships: { staff: 1 } },
    });
    expect(res.statusCode).toBe(201);
    const id = res.json().id;
    await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/accounts/${id}`,
      headers: bearer(admin),
      payload: { memberships: { staff: 50 }, password: 'audited-password-1' },
    });
    keep('audited-password-1');
    const logs = await t.app.inject({
      method: 'GET',
      url: `/api/activity-logs?action=account.created&limit=50`,
      headers: bearer(admin),
    });
    expect(logs.statusCode).toBe(200);
    const created = logs.json().items.find((i: { object_id: string }) => i.object_id === String(id));
    expect(created).toMatchObject({ action: 'account.created', object_type: 'account', request_id: 'audit-check-1' });
    expect(created.user_id).toEqual(expect.any(Number));
    const updated = await t.app.inject({
      method: 'GET',
      url: '/api/activity-logs/?action=account.updated',
      headers: bearer(admin),
    });
    const entry = updated.json().items.find((i: { object_id: string }) => i.object_id === String(id));
    expect(entry.before).toMatchObject({ memberships: { staff: 1 } });
    expect(entry.after).toMatchObject({ memberships: { staff: 50 }, password: 'changed' });
    expect(JSON.stringify(updated.json())).not.toContain('audited-password-1');
    const byUser = await t.app.inject({
      method: 'GET',
      url: `/api/activity-logs?user_id=${created.user_id}&start_date=2000-01-01T00:00:00Z`,
      headers: bearer(admin),
    });
    expect(byUser.json().items.every((i: { user_id: number }) => i.user_id === created.user_id)).toBe(true);
  });
});

describe('API keys', () => {
  it('authenticate through the cache, and a rotated key stops working at once', async () => {
    const a = await makeAccount(t.app);
    const { apiKeys } = t.app.loket.identity;
    const first = await apiKeys.issue(t.app.loket.database.db, a.id, 'ppob');
    keep(first.apiKey, first.privateKey);
    expect(first.apiKey).toMatch(/^lk_[A-Za-z0-9_-]{30}$/);
    const url = '/api/probe-guard/ppob-key';
    const ok = await t.app.inject({ method: 'GET', url, headers: { 'x-api-key': first.apiKey } });
    expect(ok.json()).toEqual({ account: a.id });
    const second = await apiKeys.issue(t.app.loket.database.db, a.id, 'ppob');
    keep(second.apiKey, second.privateKey);
    await apiKeys.announce(second.revokedHashes);
    expect((await t.app.inject({ method: 'GET', url, headers: { 'x-api-key': first.apiKey } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url, headers: { 'x-api-key': second.apiKey } })).statusCode).toBe(200);
  });

  it("a module's key opens only that module, also once it is in the cache", async () => {
    const a = await makeAccount(t.app, { ppob: 1, photobox: 1 });
    const { apiKeys } = t.app.loket.identity;
    const ppob = await apiKeys.issue(t.app.loket.database.db, a.id, 'ppob');
    const photobox = await apiKeys.issue(t.app.loket.database.db, a.id, 'photobox');
    keep(ppob.apiKey, ppob.privateKey, photobox.apiKey, photobox.privateKey);
    const get = (module: string, key: string) =>
      t.app.inject({ method: 'GET', url: `/api/probe-guard/${module}-key`, headers: { 'x-api-key': key } });
    // Each key is used on its own module first (so it is cached), then on the other one, then again on its own.
    expect((await get('ppob', ppob.apiKey)).json()).toEqual({ account: a.id });
    expect((await get('photobox', photobox.apiKey)).json()).toEqual({ account: a.id });
    expect((await get('photobox', ppob.apiKey)).statusCode).toBe(401);
    expect((await get('ppob', photobox.apiKey)).statusCode).toBe(401);
    expect((await get('ppob', ppob.apiKey)).statusCode).toBe(200);
    expect((await get('photobox', photobox.apiKey)).statusCode).toBe(200);
    expect(await apiKeys.authenticate(photobox.apiKey, 'ppob')).toBeNull();
  });

  it('a lookup that was reading when a revocation notice came does not cache what it read', async () => {
    const a = await makeAccount(t.app);
    const { apiKeys } = t.app.loket.identity;
    const { db } = t.app.loket.database;
    const issued = await apiKeys.issue(db, a.id, 'ppob');
    keep(issued.apiKey, issued.privateKey);
    const heard = new Promise<void>((r) => t.app.loket.bus.subscribe('apikey.revoked', () => r()));
    // The table is held, so the lookup waits on its read; meanwhile a revocation notice arrives.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const holder = db.transaction().execute(async (trx) => {
      await sql`LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE`.execute(trx);
      locked();
      await held;
    });
    await isLocked;
    const lookup = apiKeys.authenticate(issued.apiKey, 'ppob');
    await apiKeys.announce(['a-hash-of-another-key']);
    await heard;
    release();
    await holder;
    // It answers what it read, but the next request reads again instead of trusting a possibly revoked key.
    expect(await lookup).toMatchObject({ accountId: a.id });
    expect(apiKeys.cached(issued.apiKey, 'ppob')).toBeUndefined();
    await apiKeys.authenticate(issued.apiKey, 'ppob');
    expect(apiKeys.cached(issued.apiKey, 'ppob')).toMatchObject({ accountId: a.id });
  });

  it('rotations at the same moment leave exactly one live key, the last one issued', async () => {
    const a = await makeAccount(t.app);
    const { db } = t.app.loket.database;
    const { apiKeys } = t.app.loket.identity;
    const issued = await Promise.all(
      Array.from({ length: 6 }, () => withTransaction(db, (trx) => apiKeys.issue(trx, a.id, 'ppob'))),
    );
    for (const k of issued) keep(k.apiKey, k.privateKey);
    const live = await db
      .selectFrom('api_keys')
      .select('id')
      .where('account_id', '=', a.id)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toHaveLength(1);
    expect(live[0]?.id).toBe(Math.max(...issued.map((k) => k.keyId)));
  });

  it('refuses missing, malformed and guessed keys with 401', async () => {
    const url = '/api/probe-guard/ppob-key';
    expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url, headers: { 'x-api-key': 'hello' } })).statusCode).toBe(401);
    const guessed = `lk_${'A'.repeat(24)}${'B'.repeat(6)}`;
    expect((await t.app.inject({ method: 'GET', url, headers: { 'x-api-key': guessed } })).statusCode).toBe(401);
  });

  it('are stored as SHA-256 with a display prefix; the private key is encrypted', async () => {
    const a = await makeAccount(t.app);
    const issued = await t.app.loket.identity.apiKeys.issue(t.app.loket.database.db, a.id, 'ppob');
    keep(issued.apiKey, issued.privateKey);
    const row = await t.app.loket.database.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', issued.keyId)
      .executeTakeFirstOrThrow();
    expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.display_prefix).toBe(issued.apiKey.slice(0, 10));
    expect(JSON.stringify(row)).not.toContain(issued.apiKey);
    expect(JSON.stringify(row)).not.toContain(issued.privateKey.slice(4));
    expect(await t.app.loket.identity.apiKeys.privateKey(t.app.loket.database.db, a.id, 'ppob')).toBe(
      issued.privateKey,
    );
  });
});

describe('OTP', () => {
  const otp = () => t.app.loket.identity.otp;
  const db = () => t.app.loket.database.db;

  it('is delivered through the outbox, single use, and a new code replaces the old one', async () => {
    const target = `otp-${randomUUID()}@example.com`;
    const first = await otp().issue(db(), 'test.login', target, {
      channel: 'email',
      to: target,
      subject: 'Kode OTP',
      body: (code) => `Kode OTP Anda: ${code}`,
    });
    keep(first.code);
    const box = await t.app.inject({
      method: 'GET',
      url: `/_dev/outbox?to=${encodeURIComponent(target)}&channel=email`,
    });
    expect(box.json().messages[0].body).toContain(first.code);
    const second = await otp().issue(db(), 'test.login', target);
    keep(second.code);
    if (second.code !== first.code)
      expect(await otp().verify('test.login', target, first.code)).toMatchObject({ ok: false, reason: 'wrong' });
    expect(await otp().verify('test.login', target, second.code)).toEqual({ ok: true });
    expect(await otp().verify('test.login', target, second.code)).toEqual({ ok: false, reason: 'missing' });
    const stored = await db().selectFrom('otp_challenges').selectAll().where('target', '=', target).execute();
    expect(stored).toHaveLength(0);
  });

  it('three wrong tries lock it: the fourth is refused even with the right code', async () => {
    const target = randomUUID();
    const { code } = await otp().issue(db(), 'test.lock', target);
    keep(code);
    const wrong = code === '000000' ? '111111' : '000000';
    expect(await otp().verify('test.lock', target, wrong)).toMatchObject({ reason: 'wrong', attemptsLeft: 2 });
    expect(await otp().verify('test.lock', target, wrong)).toMatchObject({ reason: 'wrong', attemptsLeft: 1 });
    expect(await otp().verify('test.lock', target, wrong)).toMatchObject({ reason: 'wrong', attemptsLeft: 0 });
    expect(await otp().verify('test.lock', target, code)).toEqual({ ok: false, reason: 'locked' });
  });

  it('expires after 300 s (fake clock)', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const ca = await otp().issue(db(), 'test.expiry', a);
    const cb = await otp().issue(db(), 'test.expiry', b);
    keep(ca.code, cb.code);
    clock.advance(299_000);
    expect(await otp().verify('test.expiry', a, ca.code)).toEqual({ ok: true });
    clock.advance(2_000);
    expect(await otp().verify('test.expiry', b, cb.code)).toEqual({ ok: false, reason: 'expired' });
  });

  it('two concurrent correct submissions: exactly one succeeds', async () => {
    const target = randomUUID();
    const { code } = await otp().issue(db(), 'test.race', target);
    keep(code);
    const results = await Promise.all(Array.from({ length: 5 }, () => otp().verify('test.race', target, code)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('codes are stored hashed', async () => {
    const target = randomUUID();
    const { code } = await otp().issue(db(), 'test.hash', target);
    keep(code);
    const row = await db()
      .selectFrom('otp_challenges')
      .selectAll()
      .where('target', '=', target)
      .executeTakeFirstOrThrow();
    expect(row.code_hash).not.toContain(code);
    expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
