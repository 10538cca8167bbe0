// The billing module on a realistic base: 100,000 customers with 24 months of invoices (and their ledger) made by
// the generator (`loket billing seed`) in the real-PostgreSQL database `loket_bench_billing`, served by the compiled
// server in its own process, driven from this process over 50 keep-alive connections.
//
// Run: npm run bench:billing    (needs PostgreSQL; BENCH_PG_URL overrides postgres://postgres@127.0.0.1:5432)
// Env: BENCH_REUSE=1 keeps an existing base (else it is built again), BENCH_CUSTOMERS (100000), BENCH_MONTHS (24),
//      BENCH_SECONDS (15), BENCH_CONNECTIONS (50).
// Measures: customer search (`/api/pelanggan/?search=…`, terms drawn from the base: names, e-mail and phone
// fragments) p99 (target ≤ 50 ms); the dashboard `/api/dashboard/` p99 (≤ 100 ms) when the route exists; and
// `POST /api/invoices/generate {"periode"}` for the period after the newest one (≤ 60 s). Each run generates one
// more period, so a reused base grows by one period per run.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { benchAdmin, freshDatabase, PG_BASE, ROOT, rssMb, startServer } from './lib.ts';

const DB_NAME = 'loket_bench_billing';
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
const MONTHS = Number(process.env.BENCH_MONTHS ?? 24);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const PORT = Number(process.env.BENCH_PORT ?? 18807);
// How long the generation request may take before the bench stops waiting (and reports that it did).
const GENERATE_LIMIT_S = Number(process.env.BENCH_GENERATE_LIMIT_S ?? 900);
const DATABASE_URL = `${PG_BASE}/${DB_NAME}`;

const serverEnv: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  DATABASE_URL,
  LOKET_MODULES: 'billing',
  LOKET_DEMO: '0',
  LOKET_RATE_LIMITS: 'off',
  LOG_LEVEL: 'warn',
  NODE_ENV: 'development',
};

async function query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    return (await db.query<T>(text, values)).rows;
  } finally {
    await db.end();
  }
}

async function existingCustomers(): Promise<number> {
  try {
    return Number((await query<{ n: string }>('SELECT count(*) AS n FROM billing_customers'))[0]?.n ?? 0);
  } catch {
    return 0;
  }
}

/** The base: reused when asked and present, else a fresh database filled by the generator (timed). */
async function base(): Promise<string> {
  const have = process.env.BENCH_REUSE === '1' ? await existingCustomers() : 0;
  if (have > 0) {
    await query('VACUUM ANALYZE billing_customers');
    return `reused (${have} customers)`;
  }
  await freshDatabase(DB_NAME);
  const t0 = performance.now();
  const run = spawnSync(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      'src/main.ts',
      'billing',
      'seed',
      '--customers',
      String(CUSTOMERS),
      '--months',
      String(MONTHS),
    ],
    { cwd: ROOT, env: { ...serverEnv, LOG_LEVEL: 'error' }, stdio: 'inherit' },
  );
  if (run.status !== 0) throw new Error(`billing seed failed (${run.status})`);
  await query('ANALYZE');
  return `generated in ${((performance.now() - t0) / 1000).toFixed(0)} s (with migrations)`;
}

/** An administrator's bearer header (the account is made once per base: `benchAdmin`'s e-mail and password). */
async function operator(): Promise<{ authorization: string }> {
  const config = { ...loadConfig({ ...serverEnv, LOG_LEVEL: 'error' }), modules: ['billing' as const] };
  const app = await buildApp(config);
  await app.ready();
  try {
    const known = await query('SELECT 1 FROM accounts WHERE email = $1', ['bench-admin@example.com']);
    if (known.length === 0) return await benchAdmin(app, { billing: 50 });
    const login = await app.inject({
      method: 'POST',
      url: '/api/users/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        username: 'bench-admin@example.com',
        password: 'bench-admin-password-1',
      }).toString(),
    });
    return { authorization: `Bearer ${login.json().access_token}` };
  } finally {
    await app.close();
  }
}

interface Load {
  requests: number;
  rps: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** `connections` loops, each sending its next request when the last is answered, for `seconds`; latencies in ms. */
async function load(next: () => string, headers: Record<string, string>, seconds: number): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let errors = 0;
  const get = (path: string) =>
    new Promise<number>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: PORT, path, agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
    });
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const start = performance.now();
        const status = await get(next());
        latencies.push(performance.now() - start);
        if (status < 200 || status >= 300) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 10) / 10;
  return {
    requests: latencies.length,
    rps: Math.round(latencies.length / elapsed),
    errors,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: at(1),
  };
}

const describe = (r: Load) =>
  `${r.rps} req/s, p50 ${r.p50} ms, p90 ${r.p90} ms, p99 ${r.p99} ms, max ${r.max} ms, ${r.requests} requests, errors/non-2xx ${r.errors}`;

/** Search terms as operators type them: a name, a surname, a piece of an e-mail, 4–7 digits of a phone number. */
async function searchTerms(): Promise<string[]> {
  const rows = await query<{ nama: string; email: string; no_telp: string }>(
    'SELECT nama, email, no_telp FROM billing_customers TABLESAMPLE SYSTEM (2) REPEATABLE (1) LIMIT 400',
  );
  return rows.flatMap((r, i) => {
    const [first = '', last = ''] = r.nama.split(' ');
    const local = r.email.split('@')[0] ?? '';
    return [first, last, r.nama, local.slice(0, 6 + (i % 4)), r.no_telp.slice(2 + (i % 3), 9 + (i % 4))];
  });
}

const base_ = await base();
console.log(`base: ${base_}`);
const auth = await operator();
const terms = await searchTerms();
const server = await startServer(serverEnv, PORT);
try {
  let i = 0;
  const search = () => `/api/pelanggan/?search=${encodeURIComponent(terms[i++ % terms.length] ?? '')}`;
  await load(search, auth, 3); // warm-up
  const s = await load(search, auth, SECONDS);
  console.log(`customer search, ${CONNECTIONS} connections, ${SECONDS} s: ${describe(s)} (target p99 ≤ 50 ms)`);
  const list = await load(() => `/api/pelanggan/?skip=${(i++ * 15) % 5000}&limit=15`, auth, SECONDS);
  console.log(`customer list (no search), ${CONNECTIONS} connections: ${describe(list)}`);

  const probe = await fetch(`http://127.0.0.1:${PORT}/api/dashboard/`, { headers: auth });
  if (probe.status === 404) {
    console.log('dashboard: not yet (the route answers 404)');
  } else {
    await load(() => '/api/dashboard/', auth, 3);
    const d = await load(() => '/api/dashboard/', auth, SECONDS);
    console.log(`dashboard, ${CONNECTIONS} connections: ${describe(d)} (target p99 ≤ 100 ms)`);
  }

  const newest = (await query<{ p: string }>('SELECT max(periode) AS p FROM billing_invoices'))[0]?.p ?? '2026-01';
  const [y, m] = newest.split('-').map(Number) as [number, number];
  const periode = new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 7);
  const rssBefore = rssMb(server.pid);
  const t0 = performance.now();
  try {
    const res = await fetch(`http://127.0.0.1:${PORT}/api/invoices/generate`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ periode }),
      signal: AbortSignal.timeout(GENERATE_LIMIT_S * 1000),
    });
    const body = (await res.json()) as { created?: unknown[]; skipped?: unknown[] };
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `generate ${periode}: HTTP ${res.status}, ${body.created?.length ?? '?'} created, ${body.skipped?.length ?? '?'} skipped in ${seconds.toFixed(1)} s (target ≤ 60 s); server RSS ${rssBefore.toFixed(0)} → ${rssMb(server.pid).toFixed(0)} MB`,
    );
  } catch {
    const made = await query<{ n: string }>('SELECT count(*) AS n FROM billing_invoices WHERE periode = $1', [periode]);
    console.log(
      `generate ${periode}: no answer after ${((performance.now() - t0) / 1000).toFixed(0)} s (the limit, or fetch's own 300 s wait for headers); ${made[0]?.n ?? '?'} invoices created by then (target ≤ 60 s)`,
    );
  }
} finally {
  server.stop();
}
