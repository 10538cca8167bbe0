// Sign-in limits (issue "Hardening", finding 5 and 6): failures are counted per account and per client IP, a
// success is never counted against anyone, an account is locked for a growing time after five failures, unknown and
// known ids get the same answers, guessed API keys are limited, and an ended login family stops working everywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardModule } from './fixtures/guard-module.ts';
import { startTestApp, startTwoInstances, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { REAL_PG } from './helpers/db.ts';
import { bearer, makeAccount } from './helpers/identity.ts';
import { until } from './helpers/until.ts';

const clock = fakeClock();
let t: TestApp;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  t = await startTestApp({
    config: { rateLimits: true },
    overrides: { now: clock.now, extraModules: [guardModule] },
  });
  closers.push(() => t.close());
});
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

let ipSeq = 10;
/** Each case signs in from its own address, so that one case's failures do not count against the next. */
const freshIp = () => `203.0.113.${ipSeq++}`;

async function signIn(username: string, password: string, ip: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/users/token',
    remoteAddress: ip,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ username, password }).toString(),
  });
  return res;
}

/** The answer without what differs between any two requests (the request id). */
const shape = (res: { statusCode: number; body: string; headers: Record<string, unknown> }) => ({
  status: res.statusCode,
  body: res.body.replace(/"request_id":"[^"]*"/g, ''),
  retryAfter: res.headers['retry-after'],
});

describe('sign-in limits', () => {
  it('an honest user following the README (sign in, refresh, sign in again, many times) is never refused', async () => {
    const user = await makeAccount(t.app);
    const ip = freshIp();
    for (let i = 0; i < 12; i++) {
      const res = await signIn(user.email, user.password, ip);
      expect(res.statusCode, res.body).toBe(200);
      const refreshed = await t.app.inject({
        method: 'POST',
        url: '/api/users/refresh',
        remoteAddress: ip,
        payload: { refresh_token: res.json().refresh_token },
      });
      expect(refreshed.statusCode, refreshed.body).toBe(200);
    }
  });

  it('five wrong passwords lock the account (429 with Retry-After, even with the right password), from any address; a success resets the count', async () => {
    const user = await makeAccount(t.app);
    // Four failures, a success, four failures: the success reset the count, so no lockout yet.
    for (let i = 0; i < 4; i++) expect((await signIn(user.email, 'wrong-password', freshIp())).statusCode).toBe(401);
    expect((await signIn(user.email, user.password, freshIp())).statusCode).toBe(200);
    for (let i = 0; i < 4; i++) expect((await signIn(user.email, 'wrong-password', freshIp())).statusCode).toBe(401);
    expect((await signIn(user.email, user.password, freshIp())).statusCode).toBe(200);

    for (let i = 0; i < 5; i++) expect((await signIn(user.email, 'wrong-password', freshIp())).statusCode).toBe(401);
    const locked = await signIn(user.email, user.password, freshIp());
    expect(locked.statusCode, locked.body).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(50);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(60);
    // The username in another case is the same account.
    expect((await signIn(user.email.toUpperCase(), user.password, freshIp())).statusCode).toBe(429);

    clock.advance(61_000);
    // The second lockout lasts twice as long.
    for (let i = 0; i < 5; i++) expect((await signIn(user.email, 'wrong-password', freshIp())).statusCode).toBe(401);
    const again = await signIn(user.email, user.password, freshIp());
    expect(again.statusCode).toBe(429);
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(110);
    clock.advance(121_000);
    expect((await signIn(user.email, user.password, freshIp())).statusCode).toBe(200);
  });

  it('an unknown id is answered exactly like a known one, failure by failure and when locked', async () => {
    const user = await makeAccount(t.app);
    const known: ReturnType<typeof shape>[] = [];
    const unknown: ReturnType<typeof shape>[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(shape(await signIn(user.email, 'wrong-password', freshIp())));
      unknown.push(shape(await signIn(`nobody-${user.id}@example.com`, 'wrong-password', freshIp())));
    }
    expect(unknown).toEqual(known);
    expect(known.map((k) => k.status)).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  it('one address guessing across many accounts is refused after five failures; other addresses are not', async () => {
    const ip = freshIp();
    for (let i = 0; i < 5; i++) {
      expect((await signIn(`guess-${i}-${ip}@example.com`, 'wrong-password', ip)).statusCode).toBe(401);
    }
    // Counted once the failure has been answered.
    await until(async () => (await signIn(`guess-x-${ip}@example.com`, 'wrong', ip)).statusCode === 429, {
      timeoutMs: 1000,
      intervalMs: 20,
      what: 'the sixth failure from one address to be refused',
    });
    const user = await makeAccount(t.app);
    expect((await signIn(user.email, user.password, freshIp())).statusCode).toBe(200);
  });

  it('guessed API keys from one address are refused after twenty failures', async () => {
    const ip = freshIp();
    const url = '/api/probe-guard/ppob-key';
    for (let i = 0; i < 20; i++) {
      const res = await t.app.inject({
        method: 'GET',
        url,
        remoteAddress: ip,
        headers: { 'x-api-key': `lk_guess_${i}` },
      });
      expect(res.statusCode).toBe(401);
    }
    const refused = await t.app.inject({ method: 'GET', url, remoteAddress: ip, headers: { 'x-api-key': 'lk_x' } });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    const other = await t.app.inject({
      method: 'GET',
      url,
      remoteAddress: freshIp(),
      headers: { 'x-api-key': 'lk_x' },
    });
    expect(other.statusCode).toBe(401);
  });
});

describe('an ended login family', () => {
  async function pair(app: TestApp['app'], who: { email: string; password: string }) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/users/token',
      payload: { username: who.email, password: who.password },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { access_token: string; refresh_token: string };
  }
  const probe = '/api/probe-guard/photobox-read';

  it('a reused refresh token ends every access token of its login at once, not when they expire', async () => {
    const user = await makeAccount(t.app, { photobox: 1 });
    const first = await pair(t.app, user);
    const second = (
      await t.app.inject({ method: 'POST', url: '/api/users/refresh', payload: { refresh_token: first.refresh_token } })
    ).json() as { access_token: string };
    const other = await pair(t.app, user);
    for (const token of [first.access_token, second.access_token, other.access_token]) {
      expect((await t.app.inject({ method: 'GET', url: probe, headers: bearer(token) })).statusCode).toBe(200);
    }
    // Past the grace a browser's parallel refreshes get (30 s), a used token again means it was stolen.
    clock.advance(31_000);
    const reuse = await t.app.inject({
      method: 'POST',
      url: '/api/users/refresh',
      payload: { refresh_token: first.refresh_token },
    });
    expect(reuse.statusCode).toBe(401);
    for (const token of [first.access_token, second.access_token]) {
      expect((await t.app.inject({ method: 'GET', url: probe, headers: bearer(token) })).statusCode).toBe(401);
    }
    // Another login of the same user is not touched.
    expect((await t.app.inject({ method: 'GET', url: probe, headers: bearer(other.access_token) })).statusCode).toBe(
      200,
    );
  });

  it('logout ends the access tokens the login was given before (earlier refreshes included)', async () => {
    const user = await makeAccount(t.app, { photobox: 1 });
    const first = await pair(t.app, user);
    const second = (
      await t.app.inject({ method: 'POST', url: '/api/users/refresh', payload: { refresh_token: first.refresh_token } })
    ).json() as { access_token: string };
    const out = await t.app.inject({ method: 'POST', url: '/api/users/logout', headers: bearer(second.access_token) });
    expect(out.statusCode, out.body).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: probe, headers: bearer(first.access_token) })).statusCode).toBe(
      401,
    );
  });

  // Several instances need a database server; the embedded database belongs to one process.
  it.skipIf(!REAL_PG)('is ended on every instance at once (needs DATABASE_URL)', async () => {
    const { a, b } = await startTwoInstances({ overrides: { now: clock.now, extraModules: [guardModule] } }, closers);
    const user = await makeAccount(a.app, { photobox: 1 });
    const first = await pair(a.app, user);
    expect((await b.app.inject({ method: 'GET', url: probe, headers: bearer(first.access_token) })).statusCode).toBe(
      200,
    );
    await a.app.inject({ method: 'POST', url: '/api/users/refresh', payload: { refresh_token: first.refresh_token } });
    clock.advance(31_000);
    await a.app.inject({ method: 'POST', url: '/api/users/refresh', payload: { refresh_token: first.refresh_token } });
    await until(
      async () =>
        (await b.app.inject({ method: 'GET', url: probe, headers: bearer(first.access_token) })).statusCode === 401,
      { timeoutMs: 1000, intervalMs: 20, what: 'b to refuse the ended family' },
    );
  });
});

describe('OTP verification counts failures, not successes', () => {
  it('ten wrong staff codes from one address are refused after that; the right code was never held back', async () => {
    const staff = await startTestApp({ config: { modules: ['staff'], rateLimits: true } });
    closers.push(() => staff.close());
    const ip = freshIp();
    // Twelve staff members verify their right codes from one office address: none is refused.
    for (let i = 0; i < 12; i++) {
      const gen = await staff.app.inject({
        method: 'POST',
        url: '/otp/generate',
        remoteAddress: freshIp(),
        payload: { id: `ok-${i}` },
      });
      const res = await staff.app.inject({
        method: 'POST',
        url: '/otp/verify',
        remoteAddress: ip,
        payload: { id: `ok-${i}`, otp: gen.json().otp },
      });
      expect(res.statusCode, res.body).toBe(200);
    }
    const guesser = freshIp();
    for (let i = 0; i < 10; i++) {
      const res = await staff.app.inject({
        method: 'POST',
        url: '/otp/verify',
        remoteAddress: guesser,
        payload: { id: `nobody-${i}`, otp: '000000' },
      });
      expect(res.statusCode).toBe(404);
    }
    await until(
      async () =>
        (
          await staff.app.inject({
            method: 'POST',
            url: '/otp/verify',
            remoteAddress: guesser,
            payload: { id: 'nobody-x', otp: '000000' },
          })
        ).statusCode === 429,
      { timeoutMs: 1000, intervalMs: 20, what: 'the eleventh failure from one address to be refused' },
    );
  });
});
