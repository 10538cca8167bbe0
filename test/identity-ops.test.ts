// Identity around the edges: rate limits, the bootstrap admin, SMTP delivery, the admin CLI, and several
// instances sharing one database and Redis.
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, describe, expect, it } from 'vitest';
import { RateLimitError } from '../src/core/limits/limiter.ts';
import { guardModule } from './fixtures/guard-module.ts';
import { startTestApp, startTwoInstances, type TestApp } from './helpers/app.ts';
import { createTestDatabase, REAL_PG, REDIS_URL } from './helpers/db.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { until } from './helpers/until.ts';

const ROOT = join(import.meta.dirname, '..');
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});
async function app(opts: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
  const t = await startTestApp(opts);
  closers.push(() => t.close());
  return t;
}

describe('rate limits', () => {
  it('billing sign-in: the 6th attempt in 5 minutes from one IP is 429 with Retry-After, in the billing envelope', async () => {
    const t = await app({ config: { rateLimits: true } });
    const payload = { username: 'nobody@example.com', password: 'wrong-password' };
    for (let i = 0; i < 5; i++) {
      expect((await t.app.inject({ method: 'POST', url: '/api/users/token', payload })).statusCode).toBe(401);
    }
    const sixth = await t.app.inject({ method: 'POST', url: '/api/users/token', payload });
    expect(sixth.statusCode).toBe(429);
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(sixth.headers['retry-after'])).toBeLessThanOrEqual(300);
    expect(sixth.json()).toMatchObject({ detail: 'Rate limit exceeded', status: 'error', error_code: 'RATE_LIMITED' });
    expect(sixth.json().retry_after).toBe(Number(sixth.headers['retry-after']));
  });

  it('IM3 sign-in answers 429 in the IM3 envelope', async () => {
    const t = await app({ config: { rateLimits: true, modules: ['im3'] } });
    const payload = { username: 'nobody', password: 'wrong-password' };
    for (let i = 0; i < 5; i++) await t.app.inject({ method: 'POST', url: '/api/auth/login', payload });
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload });
    expect(res.statusCode).toBe(429);
    expect(res.json()).toMatchObject({ success: false, error: { code: 'RATE_LIMITED' } });
  });

  it('OTP sending: the 6th code for one target within 15 minutes is refused', async () => {
    const t = await app({ config: { rateLimits: true } });
    const target = randomUUID();
    for (let i = 0; i < 5; i++) await t.app.loket.identity.otp.issue(t.app.loket.database.db, 'test.send', target);
    await expect(t.app.loket.identity.otp.issue(t.app.loket.database.db, 'test.send', target)).rejects.toBeInstanceOf(
      RateLimitError,
    );
    // Another target is not affected.
    await t.app.loket.identity.otp.issue(t.app.loket.database.db, 'test.send', randomUUID());
  });

  it('LOKET_RATE_LIMITS=off turns them off', async () => {
    const t = await app({ config: { rateLimits: false } });
    const payload = { username: 'nobody@example.com', password: 'wrong-password' };
    for (let i = 0; i < 8; i++) {
      expect((await t.app.inject({ method: 'POST', url: '/api/users/token', payload })).statusCode).toBe(401);
    }
  });
});

describe('bootstrap admin', () => {
  it('LOKET_ADMIN_EMAIL/PASSWORD create a platform admin, and a changed password is applied at the next start', async () => {
    const db = await createTestDatabase();
    closers.push(() => db.drop());
    const dataDir = db.url ? 'memory://' : mkdtempSync(join(tmpdir(), 'loket-admin-'));
    const shared = { ...db, dataDir, drop: async () => {} };
    const email = 'Owner@Example.com';
    const first = await startTestApp({
      db: shared,
      config: { adminEmail: email, adminPassword: 'first-owner-password' },
    });
    const tokens = await tokensFor(first.app, { email: 'owner@example.com', password: 'first-owner-password' });
    const list = await first.app.inject({
      method: 'GET',
      url: '/api/admin/accounts',
      headers: bearer(tokens.access_token),
    });
    expect(list.statusCode).toBe(200);
    await first.close();

    const second = await startTestApp({
      db: shared,
      config: { adminEmail: email, adminPassword: 'second-owner-password' },
    });
    try {
      const old = await second.app.inject({
        method: 'POST',
        url: '/api/users/token',
        payload: { username: email, password: 'first-owner-password' },
      });
      expect(old.statusCode).toBe(401);
      await tokensFor(second.app, { email, password: 'second-owner-password' });
      const { total } = (
        await second.app.inject({
          method: 'GET',
          url: '/api/admin/accounts?search=owner',
          headers: bearer((await tokensFor(second.app, { email, password: 'second-owner-password' })).access_token),
        })
      ).json();
      expect(total).toBe(1);
    } finally {
      await second.close();
      if (!db.url) rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('outbox over SMTP', () => {
  it('e-mail goes out through a real SMTP conversation and is marked sent', async () => {
    const received: { to: string; data: string }[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, done) {
        let data = '';
        stream.on('data', (c) => {
          data += c;
        });
        stream.on('end', () => {
          received.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), data });
          done();
        });
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const port = (server.server.address() as { port: number }).port;
    const t = await app({ config: { smtpUrl: `smtp://127.0.0.1:${port}`, mailFrom: 'Loket <loket@example.com>' } });
    const to = `smtp-${randomBytes(4).toString('hex')}@example.com`;
    const { code } = await t.app.loket.identity.otp.issue(t.app.loket.database.db, 'test.smtp', to, {
      channel: 'email',
      to,
      subject: 'Kode verifikasi',
      body: (c) => `Kode verifikasi Anda ${c}, berlaku 5 menit.`,
    });
    await until(() => received.length > 0, { what: 'the SMTP server to receive the message' });
    expect(received).toHaveLength(1);
    expect(received[0]?.to).toBe(to);
    expect(received[0]?.data).toContain(code);
    expect(received[0]?.data).toContain('Subject: Kode verifikasi');
    await until(
      async () => {
        const row = await t.app.loket.database.db
          .selectFrom('outbox_messages')
          .select('status')
          .where('recipient', '=', to)
          .executeTakeFirst();
        return row?.status === 'sent';
      },
      { what: 'the outbox row to be marked sent' },
    );
  });

  it('without SMTP the message waits in the outbox for /_dev/outbox, which production does not have', async () => {
    const dev = await app();
    const to = `dev-${randomBytes(4).toString('hex')}@example.com`;
    await dev.app.loket.outbox.send(dev.app.loket.database.db, { channel: 'email', to, subject: 'Hi', body: 'Halo' });
    const box = await dev.app.inject({ method: 'GET', url: `/_dev/outbox?to=${to}` });
    expect(box.json().messages).toEqual([
      expect.objectContaining({ channel: 'email', to, subject: 'Hi', body: 'Halo', created_at: expect.any(String) }),
    ]);
    const prod = await app({ config: { env: 'production' } });
    expect((await prod.app.inject({ method: 'GET', url: '/_dev/outbox' })).statusCode).toBe(404);
  });
});

describe('admin command line', () => {
  it('creates a platform admin who can then sign in, and refuses bad input readably', async () => {
    const db = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'loket-cli-'));
    const env = {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'error',
      LOKET_DATA_DIR: dir,
      ...(db.url ? { DATABASE_URL: db.url } : {}),
    };
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/main.ts', 'admin', ...args], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
      });
    try {
      const ok = run(
        'create',
        '--email',
        'ops@example.com',
        '--password',
        'ops-password-123',
        '--level',
        'platform=100',
      );
      expect(ok.status, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ email: 'ops@example.com', memberships: { platform: 100 } });
      expect(ok.stdout).not.toContain('ops-password-123');
      const bad = run('create', '--email', 'not-an-email', '--level', 'bank=5');
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('VALIDATION_ERROR');
      expect(bad.stderr).toContain('memberships.bank');
      const t = await startTestApp({ db: { ...db, dataDir: dir, drop: async () => {} } });
      try {
        await tokensFor(t.app, { email: 'ops@example.com', password: 'ops-password-123' });
      } finally {
        await t.close();
      }
    } finally {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

// Several instances need a database server; the embedded database belongs to one process: on the embedded run
// these show as skipped.
describe.skipIf(!REAL_PG)('two instances on one database (needs a PostgreSQL server: DATABASE_URL)', () => {
  it('logout, account changes and key rotation on one instance take effect on the other at once', async () => {
    const { a, b } = await startTwoInstances({ overrides: { extraModules: [guardModule] } }, closers);
    const url = '/api/probe-guard/photobox-read';
    /** b answers `status` within a second of the change on a (the notice crosses the bus; no cache lasts longer). */
    const bAnswers = (status: number, path: string, headers: Record<string, string>, what: string) =>
      until(async () => (await b.app.inject({ method: 'GET', url: path, headers })).statusCode === status, {
        timeoutMs: 1000,
        intervalMs: 20,
        what: `b to answer ${status} ${what}`,
      });

    const user = await makeAccount(a.app, { photobox: 1 });
    const pair = await tokensFor(a.app, user);
    expect((await b.app.inject({ method: 'GET', url, headers: bearer(pair.access_token) })).statusCode).toBe(200);
    await a.app.inject({ method: 'POST', url: '/api/users/logout', headers: bearer(pair.access_token) });
    await bAnswers(401, url, bearer(pair.access_token), 'after the logout on a');

    // b has the account state cached; disabling it through a ends b's acceptance too.
    const second = await tokensFor(a.app, user);
    expect((await b.app.inject({ method: 'GET', url, headers: bearer(second.access_token) })).statusCode).toBe(200);
    const admin = await makeAccount(a.app, { platform: 100 });
    const adminToken = (await tokensFor(a.app, admin)).access_token;
    await a.app.inject({
      method: 'PATCH',
      url: `/api/admin/accounts/${user.id}`,
      headers: bearer(adminToken),
      payload: { memberships: {} },
    });
    const fresh = await tokensFor(a.app, user);
    await bAnswers(403, url, bearer(fresh.access_token), 'once the membership is gone');

    const keyOwner = await makeAccount(a.app);
    const k1 = await a.app.loket.identity.apiKeys.issue(a.app.loket.database.db, keyOwner.id, 'ppob');
    const keyUrl = '/api/probe-guard/ppob-key';
    expect((await b.app.inject({ method: 'GET', url: keyUrl, headers: { 'x-api-key': k1.apiKey } })).statusCode).toBe(
      200,
    );
    const k2 = await a.app.loket.identity.apiKeys.issue(a.app.loket.database.db, keyOwner.id, 'ppob');
    await a.app.loket.identity.apiKeys.announce(k2.revokedHashes);
    await bAnswers(401, keyUrl, { 'x-api-key': k1.apiKey }, 'to the rotated key');
  });

  it.skipIf(!REDIS_URL)('rate limits are counted across instances sharing Redis (needs REDIS_URL)', async () => {
    const { a, b } = await startTwoInstances({ config: { rateLimits: true } }, closers);
    const payload = { username: 'nobody@example.com', password: 'wrong-password' };
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const target = i % 2 === 0 ? a : b;
      codes.push((await target.app.inject({ method: 'POST', url: '/api/users/token', payload })).statusCode);
    }
    expect(codes).toEqual([401, 401, 401, 401, 401, 429]);
  });
});
