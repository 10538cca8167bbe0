// The billing module on a realistic base: 100,000 customers with 24 months of invoices (and their ledger) made by
// the generator (`loket billing seed`) in the real-PostgreSQL database `loket_bench_billing`, served by the compiled
// server in its own process, driven from this process over 50 keep-alive connections.
//
// Run: npm run bench:billing    (needs PostgreSQL; BENCH_PG_URL overrides postgres://postgres@127.0.0.1:5432)
// Env: BENCH_REUSE=1 keeps an existing base (else it is built again), BENCH_CUSTOMERS (100000), BENCH_MONTHS (24),
//      BENCH_SECONDS (15), BENCH_CONNECTIONS (50), BENCH_DB (loket_bench_billing), BENCH_PHASES
//      (search,list,dashboard,generate), BENCH_REPEAT (2: each measurement twice), BENCH_PAUSE_MS (250),
//      BENCH_REDIS_URL (the server's REDIS_URL; unset: in-process caches).
// Load: wrk (Debian package), 50 connections, each measurement closed loop (a connection sends its next request when
// the last is answered) and paced (BENCH_PAUSE_MS between a connection's requests), with the CPU time per answer of
// the server and of its PostgreSQL backends, and the load average before and after (the machine is shared).
// Measures: customer search (`/api/pelanggan/?search=…`, terms drawn from the base: names, e-mail and phone
// fragments) p99 (target ≤ 50 ms); the dashboard `/api/dashboard/` p99 (≤ 100 ms) when the route exists; and
// `POST /api/invoices/generate {"periode"}` for the period after the newest one (≤ 60 s). Each run generates one
// more period, so a reused base grows by one period per run.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import {
  benchAdmin,
  cpuSeconds,
  describeLoad,
  freshDatabase,
  type LoadResult,
  luaStrings,
  PG_BASE,
  ROOT,
  rssMb,
  startServer,
  wrk,
} from './lib.ts';

const DB_NAME = process.env.BENCH_DB ?? 'loket_bench_billing';
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
  // BENCH_REDIS_URL: the server shares its caches through this Redis (as instances in production do).
  ...(process.env.BENCH_REDIS_URL ? { REDIS_URL: process.env.BENCH_REDIS_URL } : {}),
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

const PHASES = (process.env.BENCH_PHASES ?? 'search,list,dashboard,generate').split(',');
const REPEAT = Number(process.env.BENCH_REPEAT ?? 2);
// Paced clients: each connection waits this long between its requests (50 connections, 250 ms: at most 200 req/s).
const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 250);

/** CPU seconds used so far by the PostgreSQL backends connected to the bench database (the server's pool). */
async function backendCpu(): Promise<number> {
  const pids = await query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [DB_NAME],
  );
  let total = 0;
  for (const { pid } of pids) {
    try {
      const c = cpuSeconds(pid);
      total += c.user + c.sys;
    } catch {
      // gone since
    }
  }
  return total;
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/**
 * wrk over `paths` (a Lua list walked round-robin from a random start per thread), closed loop (each connection sends
 * its next request when the last is answered) or paced; with the server's and its PostgreSQL backends' CPU time per
 * answer and the load average before and after.
 */
async function measure(
  label: string,
  paths: string[],
  headers: Record<string, string>,
  pauseMs: number,
  seconds = SECONDS,
) {
  const script = `local paths = ${luaStrings(paths)}
local i = 0
init = function(args) i = math.random(#paths) end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], { ["Authorization"] = ${JSON.stringify(headers.authorization)} })
end
${pauseMs > 0 ? `delay = function() return ${pauseMs} end` : ''}`;
  const loadBefore = loadavg();
  const node0 = cpuSeconds(server.pid);
  const pg0 = await backendCpu();
  const r: LoadResult = await wrk({
    url: `http://127.0.0.1:${PORT}`,
    connections: CONNECTIONS,
    seconds: SECONDS,
    script,
  });
  const node1 = cpuSeconds(server.pid);
  const pg1 = await backendCpu();
  const per = (s: number) => ((s * 1000) / Math.max(1, r.requests)).toFixed(2);
  const model = pauseMs > 0 ? `paced (${pauseMs} ms between a connection's requests)` : 'closed loop';
  console.log(
    `${label}, ${CONNECTIONS} connections, ${model}, ${seconds} s: ${describeLoad(r)}; CPU per answer: server ${per(
      node1.user + node1.sys - node0.user - node0.sys,
    )} ms, PostgreSQL ${per(pg1 - pg0)} ms; server RSS ${rssMb(server.pid).toFixed(0)} MB; load average ${loadBefore} → ${loadavg()}`,
  );
  return r;
}

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
  const targets: [string, string, string[], string][] = [
    ['search', 'customer search', terms.map((t) => `/api/pelanggan/?search=${encodeURIComponent(t)}`), 'p99 ≤ 50 ms'],
    [
      'list',
      'customer list (no search)',
      Array.from({ length: 334 }, (_, k) => `/api/pelanggan/?skip=${k * 15}&limit=15`),
      'no target',
    ],
    ['dashboard', 'dashboard /api/dashboard/', ['/api/dashboard/'], 'p99 ≤ 100 ms'],
    [
      'dashboard',
      "dashboard page's calls (dashboard, sidebar-badges, paket-details)",
      ['/api/dashboard/', '/api/dashboard/sidebar-badges', '/api/dashboard/paket-details'],
      'p99 ≤ 100 ms',
    ],
  ];
  for (const [phase, label, paths, target] of targets) {
    if (!PHASES.includes(phase)) continue;
    await measure(`${label} (warm-up)`, paths, auth, 0, 3);
    for (let run = 1; run <= REPEAT; run++) {
      await measure(`${label} [run ${run}, target ${target}]`, paths, auth, 0);
      await measure(`${label} [run ${run}, target ${target}]`, paths, auth, PAUSE_MS);
    }
  }
  if (!PHASES.includes('generate')) {
    server.stop(); // process.exit skips the `finally`
    process.exit(0);
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
