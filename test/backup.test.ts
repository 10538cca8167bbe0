// Backup, restore and the move to PostgreSQL, as an operator runs them: a real server on an embedded data directory,
// money moved through the PPOB API (a paid deposit, a purchase that succeeds, one that fails and is refunded), then
// `loket backup` through the running server under load, `restore` refused while it runs, and, once it has stopped,
// backup → wipe → restore (the same rows, the same balances), and `db copy-to` into a database of this machine's
// PostgreSQL on which a server then answers with the same balance.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type Drained, drain } from './helpers/child.ts';
import { freePort } from './helpers/net.ts';

const NODE = process.execPath;
const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'loket-backup-'));
const children: ChildProcess[] = [];
const logs = new Map<ChildProcess, Drained>();
const BASE_ENV = {
  LOKET_MODULES: 'ppob',
  LOKET_RATE_LIMITS: 'off',
  PPOB_SIMULATOR_DELAY_MS: '100',
  JOB_POLL_SECONDS: '1',
};

function run(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((ok) => {
    const child = spawn(NODE, ['--liftoff-only', '--disable-warning=ExperimentalWarning', MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', LOKET_DEMO: '0', ...BASE_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A command that hangs fails the test in its own words instead of running into the test's timeout.
      timeout: 180_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c) => (stdout += c));
    child.stderr?.on('data', (c) => (stderr += c));
    child.on('exit', (code) => ok({ code, stdout, stderr }));
  });
}

async function serve(env: Record<string, string>): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(NODE, ['--liftoff-only', '--disable-warning=ExperimentalWarning', MAIN, 'serve'], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...BASE_ENV, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  logs.set(child, drain(child));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ready = await fetch(`${base}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { child, base };
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('server did not start');
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const json = async (res: Response) => {
  const body = (await res.json()) as { data: Record<string, unknown> };
  if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return body.data;
};
const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    signal: AbortSignal.timeout(60_000),
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** A reseller with a paid deposit of 100,000, one successful purchase and one failed (refunded): saldo 88,000. */
async function reseller(base: string, email: string): Promise<{ key: string; saldo: number }> {
  await json(await post(base, '/register', { nama: 'Rama', email, hp: '081212345678' }));
  const outbox = (await (await fetch(`${base}/_dev/outbox?to=${email}`)).json()) as { messages: { body: string }[] };
  const otp = outbox.messages[0]?.body.match(/\d{6}/)?.[0] ?? '';
  const key = String((await json(await post(base, '/verif-otp', { email, otp }))).api_key);
  const auth = { 'x-api-key': key };
  const dep = await json(await post(base, '/deposit', { nominal: 100_000 }, auth));
  expect((await fetch(`${base}/_dev/payments/${dep.id}/pay`, { method: 'POST' })).ok).toBe(true);
  await until(async () => (await json(await fetch(`${base}/saldo`, { headers: auth }))).saldo === 100_000);
  const ok = await json(await post(base, '/beli', { kode_produk: 'PLS10', nomor_tujuan: '081212345678' }, auth));
  const bad = await json(await post(base, '/beli', { kode_produk: 'PLS10', nomor_tujuan: '081212345000' }, auth));
  for (const trx of [ok.id, bad.id]) {
    await until(async () => (await json(await fetch(`${base}/status/${trx}`, { headers: auth }))).status !== 'pending');
  }
  const saldo = Number((await json(await fetch(`${base}/saldo`, { headers: auth }))).saldo);
  expect(saldo).toBe(88_000);
  return { key, saldo };
}

async function until(cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

type Query = (sql: string) => Promise<Record<string, unknown>[]>;

/** Every table of `schemas`: its row count and a hash of its rows (rendered in UTC); the ledger's balances. */
async function fingerprint(q: Query, schemas: string[], skip: string[] = []): Promise<Record<string, string>> {
  await q("SET TimeZone = 'UTC'");
  const tables = await q(
    `SELECT schemaname AS s, tablename AS t FROM pg_catalog.pg_tables WHERE schemaname IN (${schemas.map((s) => `'${s}'`).join(',')}) ORDER BY 1, 2`,
  );
  const out: Record<string, string> = {};
  for (const { s, t } of tables as { s: string; t: string }[]) {
    if (skip.includes(t)) continue;
    const [row] = await q(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${s}"."${t}" x`,
    );
    out[`${s}.${t}`] = `${row?.n} ${row?.h}`;
  }
  return out;
}

/** The ledger's invariants and what a reseller would read: every wallet's balance. */
async function ledger(q: Query): Promise<{ balances: Record<string, number>; unbalanced: number; drift: number }> {
  const rows = (await q('SELECT code, balance::int AS balance FROM ledger_accounts ORDER BY code')) as {
    code: string;
    balance: number;
  }[];
  const [journals] = await q(
    'SELECT count(*)::int AS n FROM (SELECT journal_id FROM ledger_entries GROUP BY journal_id HAVING sum(amount) <> 0) j',
  );
  const [drift] = await q(`SELECT count(*)::int AS n FROM ledger_accounts a
    WHERE a.balance <> coalesce((SELECT sum(amount) FROM ledger_entries e WHERE e.ledger_account_id = a.id), 0)`);
  return {
    balances: Object.fromEntries(rows.map((r) => [r.code, r.balance])),
    unbalanced: Number(journals?.n),
    drift: Number(drift?.n),
  };
}

/** Opens an embedded data directory in this process (no server runs on it) for `fn`. */
async function embedded<T>(dataDir: string, fn: (q: Query) => Promise<T>): Promise<T> {
  const lite = await PGlite.create({ dataDir: join(dataDir, 'pg'), extensions: { pg_trgm } });
  try {
    return await fn(async (sql) => (await lite.query<Record<string, unknown>>(sql)).rows);
  } finally {
    await lite.close();
  }
}

const data = join(dir, 'data');
const env = { LOKET_DATA_DIR: data };
let apiKey = '';
let saldo = 0;

describe('backup and restore of the embedded database', () => {
  it('a backup taken through the running server while purchases go on loads into a balanced ledger; restore refuses while it runs', async () => {
    const { child: server, base } = await serve({ ...env, LOKET_DEMO: '1' });
    ({ key: apiKey, saldo } = await reseller(base, 'rama@example.com'));
    const load = await reseller(base, 'beban@example.com');
    let running = true;
    const answers: number[] = [];
    const buying = (async () => {
      while (running) {
        const res = await post(
          base,
          '/beli',
          { kode_produk: 'PLS5', nomor_tujuan: '081299999999' },
          { 'x-api-key': load.key },
        );
        answers.push(res.status);
        await res.arrayBuffer();
      }
    })();
    const live = join(dir, 'live.sql');
    const backup = await run(['backup', live], env);
    const refused = await run(['restore', live], env);
    const doctor = await run(['doctor'], env);
    running = false;
    await buying;
    expect(backup.code, `${backup.stderr}\nserver's last output:\n${logs.get(server)?.tail()}`).toBe(0);
    expect(backup.stdout).toContain(`backup written to ${live}`);
    // Purchases went on during the backup (until the balance ran out: a 4xx in the product's words), none failed.
    expect(answers.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(answers.filter((s) => s >= 500)).toEqual([]);
    // Restore refuses while the server runs, naming it, and changes nothing.
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`pid ${server.pid}`);
    expect(server.exitCode).toBeNull();
    // Doctor, while the server holds the directory, checks the database through it.
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toMatch(new RegExp(`ok +lock +held by a running Loket server \\(pid ${server.pid}`));
    expect(doctor.stdout).toMatch(/ok +migrations +all \d+ applied/);
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    await stop(server);

    // The live backup, restored elsewhere: a consistent state (every journal balanced, every balance its entries).
    const other = { LOKET_DATA_DIR: join(dir, 'other') };
    const restored = await run(['restore', live], other);
    expect(restored.code, restored.stderr).toBe(0);
    const l = await embedded(other.LOKET_DATA_DIR, ledger);
    expect(l.unbalanced).toBe(0);
    expect(l.drift).toBe(0);
    expect(Object.values(l.balances).reduce((a, b) => a + b, 0)).toBe(0);
  }, 400_000);

  it('backup → wipe → restore gives the same rows and ledger balances, and the server answers the same saldo', async () => {
    const before = await embedded(data, async (q) => ({
      rows: await fingerprint(q, ['public', 'pgboss']),
      ledger: await ledger(q),
    }));
    expect(before.ledger.unbalanced).toBe(0);
    expect(Object.values(before.ledger.balances)).toContain(88_000);
    const file = join(dir, 'offline.sql');
    const backup = await run(['backup', file], env);
    expect(backup.code, backup.stderr).toBe(0);

    // A truncated file is refused and changes nothing.
    const { readFileSync } = await import('node:fs');
    const sql = readFileSync(file, 'utf8');
    writeFileSync(join(dir, 'cut.sql'), sql.slice(0, Math.floor(sql.length / 2)));
    const cut = await run(['restore', join(dir, 'cut.sql')], env);
    expect(cut.code).not.toBe(0);
    expect(cut.stderr).toContain('incomplete');

    rmSync(join(data, 'pg'), { recursive: true, force: true });
    const restored = await run(['restore', file], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(existsSync(join(data, 'pg.restoring'))).toBe(false);
    const after = await embedded(data, async (q) => ({
      rows: await fingerprint(q, ['public', 'pgboss']),
      ledger: await ledger(q),
    }));
    expect(after.rows).toEqual(before.rows);
    expect(after.ledger).toEqual(before.ledger);

    const { child, base } = await serve(env);
    const read = await json(await fetch(`${base}/saldo`, { headers: { 'x-api-key': apiKey } }));
    expect(read.saldo).toBe(saldo);
    await stop(child);
  }, 400_000);

  it('on PostgreSQL (DATABASE_URL), backup and restore say to use pg_dump and pg_restore', async () => {
    const url = 'postgres://postgres@127.0.0.1:5432/postgres';
    const b = await run(['backup', join(dir, 'x.sql')], { DATABASE_URL: url });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('pg_dump');
    const r = await run(['restore', join(dir, 'x.sql')], { DATABASE_URL: url });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pg_restore');
  }, 60_000);
});

// This machine's PostgreSQL: the server in DATABASE_URL when set, else the local default.
const ADMIN_URL = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres');
ADMIN_URL.pathname = '/postgres';
const pgUp = await (async () => {
  const c = new pg.Client({ connectionString: ADMIN_URL.toString(), connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!pgUp)('the move to PostgreSQL: db copy-to', () => {
  const name = `loket_copy_${randomBytes(5).toString('hex')}`;
  const target = new URL(ADMIN_URL);
  target.pathname = `/${name}`;
  const admin = (sql: string) =>
    (async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL.toString() });
      await c.connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    })();
  afterAll(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

  it('copies every row and balance; the server on the copy answers the same saldo; a second copy is refused', async () => {
    await admin(`CREATE DATABASE ${name}`);
    const copied = await run(['db', 'copy-to', target.toString()], env);
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stdout).toMatch(/copied \d+ rows of \d+ tables/);

    const source = await embedded(data, async (q) => ({
      rows: await fingerprint(q, ['public'], ['schema_migrations']),
      ledger: await ledger(q),
    }));
    const c = new pg.Client({ connectionString: target.toString() });
    await c.connect();
    const q: Query = async (sql) => (await c.query(sql)).rows;
    const copy = { rows: await fingerprint(q, ['public'], ['schema_migrations']), ledger: await ledger(q) };
    // Sequences continue past the copied ids: a new ledger journal gets an id above every copied one.
    const [seq] = await q(
      "SELECT (SELECT max(id) FROM ledger_journals) AS max, nextval(pg_get_serial_sequence('ledger_journals', 'id')) AS next",
    );
    await c.end();
    expect(copy.rows).toEqual(source.rows);
    expect(copy.ledger).toEqual(source.ledger);
    expect(Number(seq?.next)).toBeGreaterThan(Number(seq?.max));

    const again = await run(['db', 'copy-to', target.toString()], env);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('is not empty');

    const { child, base } = await serve({ DATABASE_URL: target.toString(), LOKET_DATA_DIR: join(dir, 'files') });
    const read = await json(await fetch(`${base}/saldo`, { headers: { 'x-api-key': apiKey } }));
    expect(read.saldo).toBe(saldo);
    const bought = await json(
      await post(base, '/beli', { kode_produk: 'PLS10', nomor_tujuan: '081212345678' }, { 'x-api-key': apiKey }),
    );
    expect(bought.sisa_saldo).toBe(saldo - 12_000);
    await stop(child);
  }, 400_000);
});

describe('doctor', () => {
  it('reports an unreachable Redis as a failure with what to do, and exits non-zero', async () => {
    const res = await run(['doctor'], { LOKET_DATA_DIR: join(dir, 'doctor'), REDIS_URL: 'redis://127.0.0.1:1' });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/fail +redis +cannot reach Redis/);
    expect(res.stdout).toContain('start Redis, or correct REDIS_URL');
    expect(res.stdout).toMatch(/warn +database +no embedded database/);
    expect(res.stdout).toMatch(/ok +disk +[\d.]+ GB free/);
    expect(existsSync(join(dir, 'doctor', 'pg'))).toBe(false); // doctor creates nothing
  }, 60_000);

  it('reports an invalid configuration and an unreachable PostgreSQL', async () => {
    const bad = await run(['doctor'], { LOKET_ENV: 'production' });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/fail +config +.*LOKET_SECRET/s);
    const port = await freePort();
    const down = await run(['doctor'], { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/loket` });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/fail +database +cannot connect/);
    expect(down.stdout).toContain('createdb');
  }, 60_000);
});
