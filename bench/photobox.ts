// The kiosk polling endpoint under load: GET /api/v1/transactions/external/{external_id} at 500 concurrent
// connections against the compiled server on real PostgreSQL. 10,000 kiosks polling every 3 s need 3,333
// requests/s, each for its own transaction; so that no transaction is asked about more often than a real kiosk
// would (and no cache could help), the run polls 20,000 distinct transactions in turn. 300 of them are made and
// paid (one in three) through the API; the rest are copies of those rows with new external ids, inserted in SQL.
//
// Run: npm run bench:photobox    (needs PostgreSQL; BENCH_PG_URL overrides postgres://postgres@127.0.0.1:5432)
// Env: BENCH_SECONDS (default 15), BENCH_CONNECTIONS (500), BENCH_TRANSACTIONS (20000), BENCH_ENCRYPTION=1,
//      BENCH_PAUSE_MS (90), BENCH_PACED_SECONDS (75).
// Two runs: every connection polls again as soon as it has its answer (the server's ceiling), then every
// connection pauses between polls as a group of kiosks on one connection would, which offers about 5,000 polls/s:
// the latency a kiosk sees at that load.
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
  startServer,
  wrk,
  wrkWithPeakRss,
} from './lib.ts';

const DB_NAME = 'loket_bench_photobox';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 500);
const TRANSACTIONS = Number(process.env.BENCH_TRANSACTIONS ?? 20_000);
const THROUGH_API = 300;
// Kiosk pacing: each connection waits this long after an answer before its next poll (500 connections, 90 ms:
// about 5,000 polls/s offered when answers are quick).
const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 90);
// The kiosk-paced run lasts longer than the status cache trusts a PENDING answer (60 s), so that every PENDING
// transaction is read from the database again during it, as in steady state (a kiosk polling every 3 s is answered
// from the database about once in 20 polls).
const PACED_SECONDS = Number(process.env.BENCH_PACED_SECONDS ?? 75);
const PORT = Number(process.env.BENCH_PORT ?? 18803);
const DATABASE_URL = `${PG_BASE}/${DB_NAME}`;

const serverEnv: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  DATABASE_URL,
  LOKET_MODULES: 'photobox',
  LOKET_DEMO: '0',
  LOKET_RATE_LIMITS: 'off',
  LOG_LEVEL: 'warn',
  NODE_ENV: 'development',
  ...(process.env.BENCH_ENCRYPTION
    ? {
        ENCRYPTION_ENABLED: 'true',
        ENCRYPTION_KEY: 'bench-key-0123456789abcdef012345',
        ENCRYPTION_IV: 'bench-iv-0123456',
      }
    : {}),
};

/** Locations, a kiosk, and transactions made and (one in three) paid through the API. */
async function seed(): Promise<string[]> {
  const config = { ...loadConfig({ ...serverEnv, LOG_LEVEL: 'error' }), modules: ['photobox' as const] };
  const app = await buildApp(config);
  await app.ready();
  const admin = await benchAdmin(app, { photobox: 50 });
  const locations: number[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/locations',
      headers: admin,
      payload: { ml_name: `Bench Mall ${i}`, ml_address: `Jl. Bench ${i}` },
    });
    if (res.statusCode >= 300) throw new Error(`location: ${res.statusCode} ${res.body}`);
    locations.push(res.json().data.ml_id);
  }
  const kiosk = await app.inject({ method: 'POST', url: '/api/v1/kiosks', headers: admin, payload: { name: 'Bench' } });
  const key = { 'x-api-key': kiosk.json().data.api_key as string };
  const ids: string[] = [];
  for (let i = 0; i < THROUGH_API; i++) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: key,
      payload: { location_id: locations[i % locations.length] },
    });
    if (res.statusCode >= 300) throw new Error(`transaction: ${res.statusCode} ${res.body}`);
    const id = res.json().data.tr_external_id as string;
    if (i % 3 === 0) {
      const paid = await app.inject({ method: 'POST', url: `/_dev/payments/${id}/pay` });
      if (paid.statusCode !== 200) throw new Error(`pay: ${paid.statusCode} ${paid.body}`);
    }
    ids.push(id);
  }
  await app.close();
  // The rest: copies of the API-made rows under new external ids of the same shape.
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  const copies = await db.query<{ tr_external_id: string }>(
    `INSERT INTO photobox_transactions (tr_external_id, tr_location_id, tr_price_id, tr_account_id, tr_amount,
       tr_status, tr_qris_string, tr_qris_url, tr_xendit_id, tr_expired_at, tr_paid_at, tr_created_at)
     SELECT 'TRX-' || t.tr_location_id || '-' || to_char(t.tr_created_at, 'YYYYMMDDHH24MISS') || '-' ||
            upper(substr(md5(random()::text || g::text), 1, 8)),
            t.tr_location_id, t.tr_price_id, t.tr_account_id, t.tr_amount, t.tr_status, t.tr_qris_string,
            t.tr_qris_url, t.tr_xendit_id, t.tr_expired_at, t.tr_paid_at, t.tr_created_at
     FROM generate_series(1, $1::int) AS g
     JOIN photobox_transactions t ON t.tr_id = (SELECT min(tr_id) FROM photobox_transactions) + (g % $2::int)
     ON CONFLICT (tr_external_id) DO NOTHING
     RETURNING tr_external_id`,
    [Math.max(0, TRANSACTIONS - ids.length), ids.length],
  );
  await db.query('ANALYZE photobox_transactions');
  await db.end();
  // Shuffled, so consecutive requests do not walk the index in order.
  const all = [...ids, ...copies.rows.map((r) => r.tr_external_id)];
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [all[i], all[j]] = [all[j] as string, all[i] as string];
  }
  return all;
}

/** The status cache's hits and misses so far, from /metrics. */
async function cacheLookups(): Promise<{ hit: number; miss: number }> {
  const text = await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text();
  const count = (result: string) =>
    Number(
      new RegExp(`loket_cache_lookups_total\\{cache="photobox_status",result="${result}"\\} (\\d+)`).exec(text)?.[1] ??
        0,
    );
  return { hit: count('hit'), miss: count('miss') };
}

await freshDatabase(DB_NAME);
const t0 = performance.now();
const ids = await seed();
console.log(`seeded ${ids.length} transactions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const server = await startServer(serverEnv, PORT);
const { pid } = server;
try {
  // Each wrk thread starts at its own random place in the shuffled list and walks on from there.
  const script = (pauseMs: number) => `local ids = ${luaStrings(ids)}
local i = 0
init = function(args) i = math.random(#ids) end
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/transactions/external/" .. ids[(i % #ids) + 1])
end
${pauseMs > 0 ? `delay = function() return ${pauseMs} end` : ''}`;
  await wrk({ url: `http://127.0.0.1:${PORT}`, connections: 50, seconds: 3, script: script(0) });
  const label = `GET /api/v1/transactions/external/{id}${process.env.BENCH_ENCRYPTION ? ' (encrypted)' : ''}`;
  for (const [name, pauseMs, seconds] of [
    ['as fast as it answers', 0, SECONDS],
    [`kiosk pacing, ${PAUSE_MS} ms between a connection's polls`, PAUSE_MS, PACED_SECONDS],
  ] as const) {
    const before = await cacheLookups();
    const { result, peak, cpuUs } = await wrkWithPeakRss(pid, {
      url: `http://127.0.0.1:${PORT}`,
      connections: CONNECTIONS,
      seconds,
      script: script(pauseMs),
    });
    const after = await cacheLookups();
    const hits = after.hit - before.hit;
    const misses = after.miss - before.miss;
    console.log(
      `${label}, ${CONNECTIONS} connections, ${name}, ${seconds} s: ${describeLoad(result)}, peak RSS ${peak.toFixed(0)} MB; ` +
        `answered from memory ${((100 * hits) / Math.max(1, hits + misses)).toFixed(1)} %, ` +
        `database reads ${(misses / seconds).toFixed(0)}/s, ${describeCpu(cpuUs)}`,
    );
  }
} finally {
  server.stop();
}
