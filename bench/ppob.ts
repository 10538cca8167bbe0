// PPOB under load: POST /beli and GET /produk at 200 concurrent connections against the compiled server
// (`dist/`, as `npm start` runs it) on real PostgreSQL, 200 resellers × 50 products, simulator provider.
// The load generator is wrk (a separate C process); the server is a separate process whose RSS is sampled.
//
// Run: npm run bench:ppob            (needs PostgreSQL; BENCH_PG_URL overrides postgres://postgres@127.0.0.1:5432)
// Env: BENCH_SECONDS (default 20), BENCH_CONNECTIONS (200), BENCH_USERS (200), BENCH_PRODUCTS (50),
//      BENCH_BELI_PAUSE_MS (80: the paced /beli run's pause after each answer; 0 skips it), BENCH_ONLY (produk | beli),
//      BENCH_PGBENCH=0 (skips the pgbench runs), REDIS_URL (optional, passed to the server).
// Runs: /produk closed loop; /beli paced by BENCH_BELI_PAUSE_MS, then closed loop (each followed by the backlog's
// settling); the ledger audit; the purchase statements through pgbench.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import {
  benchAdmin,
  describeCpu,
  describeLoad,
  freshDatabase,
  luaStrings,
  PG_BASE,
  ROOT,
  startServer,
  wrk,
  wrkWithPeakRss,
} from './lib.ts';

const DB_NAME = 'loket_bench_ppob';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 200);
const USERS = Number(process.env.BENCH_USERS ?? 200);
const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 50);
const PORT = Number(process.env.BENCH_PORT ?? 18801);
// The paced /beli run: each connection's pause after an answer (0 skips the run). With answers in ~40 ms, 200
// connections pausing 80 ms offer about 1,600 purchases/s, just above the 1,500/s target.
const BELI_PAUSE_MS = Number(process.env.BENCH_BELI_PAUSE_MS ?? 80);
const DATABASE_URL = `${PG_BASE}/${DB_NAME}`;

const serverEnv = {
  PATH: process.env.PATH ?? '',
  DATABASE_URL,
  ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
  LOKET_MODULES: 'ppob',
  LOKET_DEMO: '0',
  LOKET_RATE_LIMITS: 'off',
  LOG_LEVEL: 'warn',
  NODE_ENV: 'development',
  ...JSON.parse(process.env.BENCH_SERVER_ENV ?? '{}'),
};

/** Seeds through the application itself: registration, OTP from the outbox, keys, admin top-ups, products. */
async function seed(): Promise<{ keys: string[]; codes: string[] }> {
  const config = { ...loadConfig({ ...serverEnv, LOG_LEVEL: 'error' }), modules: ['ppob' as const] };
  const app = await buildApp(config);
  await app.ready();
  const admin = await benchAdmin(app, { ppob: 50 });

  const codes: string[] = [];
  for (let i = 0; i < PRODUCTS; i++) {
    const kode = `B${String(i).padStart(3, '0')}`;
    const res = await app.inject({
      method: 'POST',
      url: '/api/admin/ppob/products',
      headers: admin,
      payload: {
        kode_produk: kode,
        nama: `Pulsa bench ${i}`,
        harga: 1000 + i * 100,
        kategori: 'Pulsa',
        brand: 'BENCH',
      },
    });
    if (res.statusCode !== 201) throw new Error(`product: ${res.statusCode} ${res.body}`);
    codes.push(kode);
  }

  const keys: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const email = `bench-${i}@example.com`;
    await app.inject({ method: 'POST', url: '/register', payload: { nama: `Reseller ${i}`, email } });
    const box = (await app.inject({ method: 'GET', url: `/_dev/outbox?to=${encodeURIComponent(email)}` })).json();
    const otp = /(\d{6})/.exec(box.messages[0].body)?.[1];
    const ver = await app.inject({ method: 'POST', url: '/verif-otp', payload: { email, otp } });
    if (ver.statusCode !== 200) throw new Error(`verif-otp: ${ver.statusCode} ${ver.body}`);
    keys.push(ver.json().data.api_key);
    for (let k = 0; k < 10; k++) {
      const top = await app.inject({
        method: 'POST',
        url: '/api/admin/ppob/balance-adjustments',
        headers: admin,
        payload: { email, amount: 100_000_000, reason: 'bench' },
      });
      if (top.statusCode !== 201) throw new Error(`top-up: ${top.statusCode} ${top.body}`);
    }
  }
  await app.close();
  if (process.env.BENCH_KEYS_FILE) writeFileSync(process.env.BENCH_KEYS_FILE, JSON.stringify({ keys, codes }));
  return { keys, codes };
}

/** Lua for wrk: each request carries the next reseller's key; /beli also the next product and a new number. */
function script(opts: {
  method: 'GET' | 'POST';
  path: string;
  keys: string[];
  codes: string[];
  pauseMs?: number;
}): string {
  const common = `${opts.pauseMs ? `delay = function() return ${opts.pauseMs} end\n` : ''}local keys = ${luaStrings(opts.keys)}
local codes = ${luaStrings(opts.codes)}
local i = 0
local thread_no = 0
setup = function(thread) thread_no = thread_no + 1; thread:set("tno", thread_no) end
`;
  if (opts.method === 'GET') {
    // One request per key, formatted once: the load generator then spends its CPU on the sockets, not on Lua.
    return `${common}
local requests = {}
init = function()
  for n, key in ipairs(keys) do requests[n] = wrk.format("GET", "${opts.path}", { ["x-api-key"] = key }) end
end
request = function()
  i = i + 1
  return requests[(i % #requests) + 1]
end`;
  }
  return `${common}
request = function()
  i = i + 1
  local body = string.format('{"kode_produk":"%s","nomor_tujuan":"08%d%09d"}', codes[(i % #codes) + 1], tno or 0, i)
  return wrk.format("POST", "${opts.path}", { ["x-api-key"] = keys[(i % #keys) + 1], ["content-type"] = "application/json" }, body)
end`;
}

async function load(
  name: string,
  pid: number,
  opts: { method: 'GET' | 'POST'; path: string; keys: string[]; codes: string[]; pauseMs?: number },
) {
  const { result, peak, cpuUs } = await wrkWithPeakRss(pid, {
    url: `http://127.0.0.1:${PORT}`,
    connections: CONNECTIONS,
    seconds: SECONDS,
    script: script(opts),
  });
  console.log(`${name}: ${describeLoad(result)}, peak RSS ${peak.toFixed(0)} MB, ${describeCpu(cpuUs)}`);
  return { result, peak };
}

await freshDatabase(DB_NAME);
const t0 = performance.now();
const { keys, codes } = await seed();
console.log(`seeded ${USERS} resellers, ${PRODUCTS} products in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const server = await startServer(serverEnv, PORT);
const { pid } = server;
try {
  // Warm-up: caches, JIT, connection pool.
  await wrk({
    url: `http://127.0.0.1:${PORT}`,
    connections: 20,
    seconds: 2,
    script: script({ method: 'GET', path: '/produk', keys, codes }),
  });
  const only = process.env.BENCH_ONLY;
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  console.log(`autovacuum: ${(await db.query('SHOW autovacuum')).rows[0].autovacuum}`);
  /** How long the dispatcher needs to settle every purchase the load left (two simulator calls each). */
  const settle = async () => {
    const drainStart = performance.now();
    let pending = Number.POSITIVE_INFINITY;
    while (pending > 0 && performance.now() - drainStart < 300_000) {
      pending = (await db.query(`SELECT count(*)::int AS n FROM ppob_transactions WHERE status = 'pending'`)).rows[0].n;
      if (pending > 0) await new Promise((r) => setTimeout(r, 1000));
    }
    console.log(
      `backlog settled in ${((performance.now() - drainStart) / 1000).toFixed(1)} s (pending left: ${pending})`,
    );
    // What autovacuum would do between bursts (this machine's PostgreSQL runs with autovacuum off): without it, the
    // next run starts on tens of thousands of dead purchase-row versions that the dispatcher's index scans step over.
    await db.query('VACUUM (ANALYZE) ppob_transactions, ledger_accounts, ledger_journals, ledger_entries');
  };
  if (only !== 'beli') await load('GET /produk', pid, { method: 'GET', path: '/produk', keys, codes });
  if (only !== 'produk') {
    // Resellers near the target rate: each connection pauses after every answer, and the dispatcher settles the
    // purchases while they arrive (the steady state). The rate reached is in the result.
    if (BELI_PAUSE_MS > 0) {
      await load(`POST /beli, ${CONNECTIONS} connections pausing ${BELI_PAUSE_MS} ms after each answer`, pid, {
        method: 'POST',
        path: '/beli',
        keys,
        codes,
        pauseMs: BELI_PAUSE_MS,
      });
      await settle();
    }
    // Every connection buys again as soon as it has its answer: the ceiling.
    await load('POST /beli', pid, { method: 'POST', path: '/beli', keys, codes });
    await settle();
  }

  const counts = await db.query(
    `SELECT status, count(*)::int AS n FROM ppob_transactions GROUP BY status ORDER BY status`,
  );
  const audit = await db.query(`SELECT
      (SELECT count(*)::int FROM (SELECT journal_id FROM ledger_entries GROUP BY journal_id HAVING sum(amount) <> 0) j) AS unbalanced,
      (SELECT COALESCE(sum(balance), 0)::bigint FROM ledger_accounts) AS total,
      (SELECT count(*)::int FROM ledger_accounts WHERE kind = 'wallet' AND balance < 0) AS negative`);
  console.log('transactions by status:', counts.rows.map((r) => `${r.status}=${r.n}`).join(' '));
  console.log('ledger:', audit.rows[0]);
  const ids = (
    await db.query(
      `SELECT min(owner_account_id)::int AS lo, max(owner_account_id)::int AS hi FROM ledger_accounts WHERE kind = 'wallet'`,
    )
  ).rows[0];
  await db.end();

  // The database's ceiling for the same statement, without Loket in between.
  if (only !== 'produk' && process.env.BENCH_PGBENCH !== '0') {
    const url = new URL(DATABASE_URL);
    // The single-purchase statement at the pool's size and beyond, then the batched statement (50 purchases) at the
    // batcher's two runners: what PostgreSQL does with the SQL /beli sends, without Loket in between.
    for (const [script, clients, perTx] of [
      ['ppob-purchase.pgbench.sql', 10, 1],
      ['ppob-purchase.pgbench.sql', 50, 1],
      ['ppob-purchase-batch.pgbench.sql', 2, 50],
      ['ppob-purchase-batch.pgbench.sql', 4, 50],
    ] as const) {
      const run = spawnSync(
        'pgbench',
        [
          '-h',
          url.hostname,
          '-p',
          url.port || '5432',
          '-U',
          url.username || 'postgres',
          '-n',
          '-M',
          'simple',
          '-c',
          String(clients),
          '-j',
          '2',
          '-T',
          String(Math.min(SECONDS, 10)),
          '-D',
          `uid_min=${ids.lo}`,
          '-D',
          `uid_max=${ids.hi}`,
          '-f',
          join(ROOT, 'bench', script),
          DB_NAME,
        ],
        { encoding: 'utf8' },
      );
      const tps = /tps = ([\d.]+)/.exec(run.stdout ?? '')?.[1];
      const lat = /latency average = ([\d.]+)/.exec(run.stdout ?? '')?.[1];
      console.log(
        tps
          ? `pgbench ${script}, ${clients} clients: ${Number(tps).toFixed(0)} tps = ${(Number(tps) * perTx).toFixed(0)} purchases/s, latency avg ${lat} ms`
          : `pgbench unavailable or failed: ${run.error?.message ?? run.stderr}`,
      );
    }
  }
} finally {
  server.stop();
}
