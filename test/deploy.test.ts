// The deployment kit, run on this machine: two instances on PostgreSQL and Redis behind HAProxy started with
// deploy/haproxy.cfg itself, restarted one after the other with SIGTERM while resellers keep buying. What a shop
// would notice is asserted: no request fails, every accepted purchase is there once and charged once, the ledger
// balances, and the per-minute scheduled job runs once a minute however many instances there are.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, REAL_PG, REDIS_URL } from './helpers/db.ts';
import { freePort } from './helpers/net.ts';
import { until } from './helpers/until.ts';

const ROOT = join(import.meta.dirname, '..');
const HAPROXY = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find((p) => spawnSync(p, ['-v']).status === 0);
const ADMIN = { email: 'ops@example.com', password: 'rolling-restart-admin-1' };

function startInstance(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`did not start: ${out}`)), 90_000);
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('Loket is listening')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d) => {
      out += d;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${out}`));
    });
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

/** One command on HAProxy's stats socket (the admin interface). */
const haproxyCommand = (socket: string, command: string) =>
  new Promise<string>((resolve, reject) => {
    const c = connect(socket);
    let out = '';
    c.on('data', (d) => {
      out += d;
    });
    c.on('end', () => resolve(out));
    c.on('error', reject);
    c.write(`${command}\n`);
  });

/** HAProxy's view of a server: UP, DOWN, … (`show stat` CSV: pxname, svname, …, status at column 18). */
async function serverStatus(socket: string, server: string): Promise<string> {
  const csv = await haproxyCommand(socket, 'show stat');
  const row = csv.split('\n').find((l) => l.startsWith(`loket,${server},`));
  return row?.split(',')[17] ?? 'unknown';
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

// Several instances only share a PostgreSQL server and Redis; on the embedded run this shows as skipped.
describe.skipIf(!REAL_PG || !REDIS_URL)(
  'rolling restart behind HAProxy (needs PostgreSQL and Redis: DATABASE_URL, REDIS_URL)',
  () => {
    it('serves every request and loses or doubles no purchase while both instances restart in turn', async () => {
      expect(HAPROXY, 'HAProxy is installed (Debian package haproxy; .ci/run installs it)').toBeDefined();
      const db = await createTestDatabase();
      const dir = mkdtempSync(join(tmpdir(), 'loket-deploy-'));
      tmpDirs.push(dir);
      const [pa, pb, pf] = [await freePort(), await freePort(), await freePort()];
      const statsSocket = join(dir, 'haproxy.sock');
      const common: Record<string, string> = {
        DATABASE_URL: db.url as string,
        // The other test file running beside this one shares the server's 100 connections.
        DATABASE_POOL_SIZE: '4',
        REDIS_URL: REDIS_URL as string,
        REDIS_PREFIX: `deploy${pf}:`,
        LOKET_MODULES: 'ppob',
        LOKET_DEMO: '1',
        LOKET_RATE_LIMITS: 'off',
        LOKET_ADMIN_EMAIL: ADMIN.email,
        LOKET_ADMIN_PASSWORD: ADMIN.password,
        LOKET_SECRET: 'deploy-test-secret-0123456789abcdef0123456789abcdef',
        TRUST_PROXY: 'on',
        SHUTDOWN_DRAIN_MS: '3000',
        PPOB_SIMULATOR_DELAY_MS: '200',
      };
      const envFor = (port: number, name: string) => ({
        ...common,
        PORT: String(port),
        LOKET_DATA_DIR: join(dir, name),
      });
      const instances: Record<'a' | 'b', ChildProcess> = {
        a: await startInstance(envFor(pa, 'a')),
        b: await startInstance(envFor(pb, 'b')),
      };
      const haproxy = spawn(HAPROXY as string, ['-f', join(ROOT, 'deploy/haproxy.cfg'), '-db'], {
        env: {
          PATH: process.env.PATH ?? '',
          HAPROXY_BIND: `127.0.0.1:${pf}`,
          LOKET_A: `127.0.0.1:${pa}`,
          LOKET_B: `127.0.0.1:${pb}`,
          HAPROXY_STATS_SOCKET: statsSocket,
        },
        stdio: 'ignore',
      });
      const B = `http://127.0.0.1:${pf}`;
      const pool = new pg.Pool({ connectionString: db.url, max: 2 });
      try {
        await until(
          async () =>
            (await serverStatus(statsSocket, 'a').catch(() => '')) === 'UP' &&
            (await serverStatus(statsSocket, 'b')) === 'UP',
          { timeoutMs: 30_000, what: 'HAProxy to see both instances up' },
        );

        // A reseller with a balance, through the balancer as a client would.
        const json = (body: unknown) => ({ 'content-type': 'application/json', body: JSON.stringify(body) });
        const post = (path: string, body: unknown, headers: Record<string, string> = {}) => {
          const { body: b, ...h } = json(body);
          return fetch(`${B}${path}`, { method: 'POST', headers: { ...h, ...headers }, body: b });
        };
        expect(
          (await post('/register', { nama: 'Rolling', email: 'roll@example.com', hp: '081200000001' })).status,
        ).toBe(201);
        const outbox = (await (await fetch(`${B}/_dev/outbox?to=roll@example.com`)).json()) as {
          messages: { body: string }[];
        };
        const otp = outbox.messages[0]?.body.match(/\d{6}/)?.[0] ?? '';
        const verified = (await (await post('/verif-otp', { email: 'roll@example.com', otp })).json()) as {
          data: { api_key: string };
        };
        const key = verified.data.api_key;
        const tokenRes = await fetch(`${B}/api/users/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ username: ADMIN.email, password: ADMIN.password }).toString(),
        });
        const { access_token } = (await tokenRes.json()) as { access_token: string };
        const credit = await post(
          '/api/admin/ppob/balance-adjustments',
          { email: 'roll@example.com', amount: 50_000_000, reason: 'rolling restart test' },
          { authorization: `Bearer ${access_token}` },
        );
        expect(credit.status).toBeLessThan(300);

        // Load: four resellers' scripts buying and reading their balance back to back until told to stop.
        let running = true;
        const failures: string[] = [];
        const accepted: string[] = [];
        let requests = 0;
        let n = 0;
        const worker = async () => {
          while (running) {
            const i = n++;
            try {
              requests++;
              const res = await post(
                '/beli',
                { kode_produk: 'PLS10', nomor_tujuan: `0812${String(100000 + i).padStart(7, '0')}` },
                { 'x-api-key': key, 'idempotency-key': `roll-${i}` },
              );
              const body = (await res.json()) as { data?: { id?: string; trx_id?: string } };
              if (res.status !== 200 && res.status !== 201) failures.push(`beli ${i}: ${res.status}`);
              else accepted.push(String(body.data?.trx_id ?? body.data?.id));
              requests++;
              const saldo = await fetch(`${B}/saldo`, { headers: { 'x-api-key': key } });
              await saldo.arrayBuffer();
              if (saldo.status !== 200) failures.push(`saldo: ${saldo.status}`);
            } catch (err) {
              failures.push(`request ${i}: ${(err as Error).message}`);
            }
          }
        };
        const load = Promise.all([worker(), worker(), worker(), worker()]);

        // Restart a, then b: SIGTERM, wait for the exit, start again, wait until HAProxy routes to it again.
        for (const name of ['a', 'b'] as const) {
          const before = accepted.length;
          await until(() => accepted.length >= before + 20, { timeoutMs: 30_000, what: 'purchases flowing' });
          instances[name].kill('SIGTERM');
          expect(await exited(instances[name])).toBe(0);
          instances[name] = await startInstance(envFor(name === 'a' ? pa : pb, name));
          await until(async () => (await serverStatus(statsSocket, name)) === 'UP', {
            timeoutMs: 30_000,
            what: `HAProxy to route to ${name} again`,
          });
        }
        const before = accepted.length;
        await until(() => accepted.length >= before + 20, { timeoutMs: 30_000, what: 'purchases after the restarts' });
        running = false;
        await load;

        expect(failures).toEqual([]);
        expect(requests).toBeGreaterThan(100);

        // Every accepted purchase exists once, settles, and is charged once (PLS10 costs 12,000; gagal refunds).
        await until(
          async () =>
            (
              await pool.query(
                "SELECT count(*)::int AS n FROM ppob_transactions WHERE status NOT IN ('sukses', 'gagal')",
              )
            ).rows[0].n === 0,
          { timeoutMs: 60_000, what: 'every purchase to settle' },
        );
        const { rows } = await pool.query('SELECT trx_id AS id, status, harga FROM ppob_transactions ORDER BY id');
        expect(new Set(accepted).size).toBe(accepted.length);
        expect(rows.map((r) => r.id).sort()).toEqual([...accepted].sort());
        const charged = rows.filter((r) => r.status === 'sukses').reduce((s, r) => s + Number(r.harga), 0);
        const saldo = (await (await fetch(`${B}/saldo`, { headers: { 'x-api-key': key } })).json()) as {
          data: { saldo: number };
        };
        expect(saldo.data.saldo).toBe(50_000_000 - charged);
        const ledger = await pool.query(
          'SELECT coalesce(sum(amount), 0)::text AS total, count(DISTINCT journal_id)::int AS journals FROM ledger_entries',
        );
        expect(ledger.rows[0].total).toBe('0');

        // The per-minute sweep ran at most once in any minute, with two instances and two restarts.
        const cron = await pool.query(
          `SELECT date_trunc('minute', created_on) AS minute, count(*)::int AS n FROM pgboss.job
           WHERE name = 'payments.expire' GROUP BY 1 HAVING count(*) > 1`,
        );
        expect(cron.rows).toEqual([]);
      } finally {
        haproxy.kill('SIGTERM');
        for (const c of Object.values(instances)) c.kill('SIGTERM');
        await Promise.all([exited(haproxy), ...Object.values(instances).map(exited)]);
        await pool.end();
        await db.drop();
      }
    }, 240_000);
  },
);
