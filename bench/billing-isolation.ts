// The isolation engine at an ISP's size: 10,000 customers (the generator's, `loket billing seed`) spread over 10
// fake RouterOS routers (test/fakes/routeros.ts: the real API protocol over TCP, or the REST API of RouterOS 7 over
// HTTPS) run in a child process, each answering every command BENCH_LATENCY_MS late as a router across a network
// does; the app in this process on real PostgreSQL with its job workers, its clock moved past the due dates and
// grace days, listening on a port for Xendit's callbacks.
//
// Measures, in order:
//   1. reconcile with repair of every router while they are empty (10,000 secrets created), then every customer's
//      device dials in (a live session each);
//   2. one reconcile of all routers in step (10,000 secrets read and compared, nothing to fix);
//   3. one isolation run (`POST /api/pelanggan/isolir/run`) over the customers whose December invoice is unpaid
//      past due and grace: the time until the last isolated customer's secret holds the isolation profile on its
//      router (provisioning state applied, checked on the routers by a full print);
//   4. while 3 runs: BENCH_PAYMENTS isolated customers (already isolated on their router) pay, each timed from the
//      payment to its package's profile seen on the router by another connection polling every 10 ms; p50/p99/max.
//      BENCH_PAY=xendit (default): the invoice's payment link (a Xendit invoice made before the sweep through the
//      brand's own account on a fake Xendit, test/fakes/xendit.ts) is paid, and the fake sends Xendit's invoice
//      callback over HTTP to the app's webhook route with the brand's callback token, timed from that request;
//      BENCH_PAY=cash: `POST /api/invoices/{id}/mark-as-paid`;
//   5. one reconcile of all routers after it (in step again).
//
// Run: npm run bench:billing-isolation   (needs PostgreSQL; BENCH_PG_URL overrides postgres://postgres@127.0.0.1:5432)
// Env: BENCH_CUSTOMERS (10000), BENCH_ROUTERS (10), BENCH_LATENCY_MS (2), BENCH_PAYMENTS (300), BENCH_REDIS_URL,
//      BENCH_PAY (xendit | cash), BENCH_TRANSPORT (api | rest | mixed: every other router on REST),
//      BENCH_REST_TLS (1: REST over HTTPS as RouterOS serves it; 0: plain HTTP), BENCH_DB (loket_bench_isolation).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { buildApp, runModuleCommand } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { RouterEngine } from '../src/modules/billing/providers/routeros/engine.ts';
import { closeRouterConnections, routerClient } from '../src/modules/billing/providers/routeros/index.ts';
import { startFakeRest, startFakeRouter } from '../test/fakes/routeros.ts';
import { startFakeXendit } from '../test/fakes/xendit.ts';
import { benchAdmin, freshDatabase } from './lib.ts';

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 10_000);
const ROUTERS = Number(process.env.BENCH_ROUTERS ?? 10);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 2);
const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 300);
const PAY = process.env.BENCH_PAY ?? 'xendit';
const TRANSPORT = process.env.BENCH_TRANSPORT ?? 'api';
const REST_TLS = process.env.BENCH_REST_TLS !== '0';
const PASSWORD = 'bench-router-password';
const DB_NAME = process.env.BENCH_DB ?? 'loket_bench_isolation';
if (!['xendit', 'cash'].includes(PAY)) throw new Error('BENCH_PAY is xendit or cash');
if (!['api', 'rest', 'mixed'].includes(TRANSPORT)) throw new Error('BENCH_TRANSPORT is api, rest or mixed');
/** Router i's transport. */
const transportOf = (i: number): 'api' | 'rest' =>
  TRANSPORT === 'rest' || (TRANSPORT === 'mixed' && i % 2 === 0) ? 'rest' : 'api';
/** The seed's brands (use-cases/seed.ts), each with a Xendit account of its own on the fake. */
const BRANDS = ['CITRANET', 'NUSAFIBER', 'RTRWSEJAHTERA'];

if (process.argv[2] === 'fake') {
  // The routers' side: ROUTERS fakes, each its own engine; ports on stdout. `dial` on stdin: every secret's device
  // dials in (removed sessions come back by themselves, as ONTs redial).
  const fakes = await Promise.all(
    Array.from({ length: ROUTERS }, (_, i) => {
      const engine = new RouterEngine({
        identity: `pop-${i + 1}`,
        profiles: ['ISOLIR'],
        autoProfiles: true,
        autoRedial: true,
      });
      return transportOf(i) === 'rest'
        ? startFakeRest({ password: PASSWORD, delayMs: LATENCY_MS, tls: REST_TLS, engine })
        : startFakeRouter({ password: PASSWORD, delayMs: LATENCY_MS, engine });
    }),
  );
  process.stdout.write(`${JSON.stringify(fakes.map((f) => f.port))}\n`);
  process.stdin.on('data', (b: Buffer) => {
    if (!b.toString().includes('dial')) return;
    let n = 0;
    for (const f of fakes) {
      for (const row of f.engine.exec('/ppp/secret/print').rows) if (f.engine.dial(String(row.name))) n++;
    }
    process.stdout.write(`${n}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
} else {
  await main();
}

async function main() {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', import.meta.filename, 'fake'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ports = await new Promise<number[]>((resolve) => {
    child.stdout.once('data', (b: Buffer) => resolve(JSON.parse(b.toString())));
  });
  const url = await freshDatabase(DB_NAME);
  // Xendit: one business a brand (its own keys and callback token), the platform's account for anything else.
  const accounts = BRANDS.map(() => ({
    secretKey: `xnd_development_${randomBytes(24).toString('hex')}`,
    callbackToken: randomBytes(24).toString('hex'),
  }));
  const xendit = await startFakeXendit({ businesses: accounts });
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);
  const config = {
    ...loadConfig({
      PATH: process.env.PATH ?? '',
      DATABASE_URL: url,
      ...(process.env.BENCH_REDIS_URL ? { REDIS_URL: process.env.BENCH_REDIS_URL } : {}),
      LOKET_MODULES: 'billing',
      LOKET_DEMO: '0',
      LOKET_RATE_LIMITS: 'off',
      LOG_LEVEL: 'error',
      NODE_ENV: 'development',
    }),
    modules: ['billing' as const],
    xenditSecretKey: xendit.secretKey,
    xenditBaseUrl: xendit.url,
    xenditCallbackToken: xendit.callbackToken,
    xenditAccountKeys: Object.fromEntries(BRANDS.map((b, i) => [b, accounts[i]?.secretKey ?? ''])),
    xenditAccountTokens: Object.fromEntries(BRANDS.map((b, i) => [b, accounts[i]?.callbackToken ?? ''])),
  };
  const app = await buildApp(config, { now });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  xendit.setCallbackUrl(
    `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/webhooks/xendit`,
  );
  const rows: string[][] = [];
  const row = (what: string, value: string, note = '') => {
    rows.push([what, value, note]);
    console.log(`${what}: ${value} ${note}`);
  };
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  try {
    let admin = await benchAdmin(app, { billing: 99 });
    const call = async (method: 'GET' | 'POST', u: string, payload?: object) => {
      const res = await app.inject({ method, url: u, headers: admin, payload });
      if (res.statusCode >= 300) throw new Error(`${method} ${u}: ${res.statusCode} ${res.body}`);
      return res.json();
    };

    // The base: the generator's customers and 3 months of invoices up to today, on ROUTERS routers.
    await runModuleCommand(app, 'billing', 'seed', { customers: String(CUSTOMERS), months: '3' }, () => {});
    const routerIds: number[] = [];
    for (const [i, port] of ports.entries()) {
      const r = await call('POST', '/api/mikrotik_servers/', {
        name: `POP ${i + 1}`,
        host_ip: '127.0.0.1',
        port,
        username: 'admin',
        password: PASSWORD,
        transport: transportOf(i),
        use_tls: transportOf(i) === 'rest' && REST_TLS,
      });
      routerIds.push(r.id);
    }
    await sqlExec(
      app,
      `UPDATE billing_technical_data SET mikrotik_server_id = ($1::int[])[1 + pelanggan_id % ${ROUTERS}]`,
      [routerIds],
    );
    await sqlExec(app, 'ANALYZE');
    const live = Number(
      (
        await sqlExec(
          app,
          `SELECT count(*) AS n FROM billing_customers WHERE deleted_at IS NULL AND status <> 'Berhenti'`,
        )
      )[0]?.n,
    );

    const reconcileAll = async () => {
      const started = performance.now();
      const reports = await Promise.all(routerIds.map((id) => call('POST', `/api/mikrotik_servers/${id}/reconcile`)));
      const sum = (k: string) =>
        reports.reduce((n: number, r: Record<string, unknown>) => n + (r[k] as unknown[]).length, 0);
      return {
        ms: performance.now() - started,
        checked: reports.reduce((n: number, r: { checked: number }) => n + r.checked, 0),
        missing: sum('missing'),
        wrong: sum('wrong_profile') + sum('wrong_address'),
      };
    };

    // 1. Empty routers filled by a reconcile; every device dials in.
    let rec = await reconcileAll();
    row(
      'reconcile, routers empty (repair: create every secret)',
      seconds(rec.ms),
      `${rec.checked} customers, ${rec.missing} created`,
    );
    child.stdin.write('dial\n');
    const dialed = await new Promise<string>((resolve) => child.stdout.once('data', (b: Buffer) => resolve(String(b))));
    console.log(`${dialed.trim()} sessions up`);

    // 2. A reconcile with everything in step.
    rec = await reconcileAll();
    row(
      'reconcile, all routers in step',
      seconds(rec.ms),
      `${rec.checked} secrets compared, ${rec.missing + rec.wrong} fixed`,
    );

    // 3. The clock moves past every brand's due day and grace days for this month's invoices.
    const today = now();
    const target = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 28, 3));
    offsetMs = target.getTime() - Date.now();
    const login = await app.inject({
      method: 'POST',
      url: '/api/users/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        username: 'bench-admin@example.com',
        password: 'bench-admin-password-1',
      }).toString(),
    });
    admin = { authorization: `Bearer ${login.json().access_token}` };
    const watch = routerIds.map((id, i) =>
      routerClient({
        key: `bench-watch-${id}`,
        host: '127.0.0.1',
        port: ports[i],
        transport: transportOf(i),
        tls: transportOf(i) === 'rest' && REST_TLS,
        username: 'admin',
        password: PASSWORD,
        timeoutMs: 30_000,
      }),
    );
    const routerOf = new Map<number, number>();
    for (const r of await sqlExec(app, 'SELECT pelanggan_id, mikrotik_server_id FROM billing_technical_data')) {
      routerOf.set(Number(r.pelanggan_id), routerIds.indexOf(Number(r.mikrotik_server_id)));
    }
    // The payers' candidates, chosen before the sweep so that their Xendit payment links are made before it:
    // live customers with one unpaid invoice (those the sweep isolates are kept after it).
    const candidates = await sqlExec(
      app,
      `SELECT i.pelanggan_id, min(i.id) AS invoice_id, min(t.id_pelanggan) AS name, min(pk.profile_pppoe) AS profile
         FROM billing_invoices i JOIN billing_technical_data t ON t.pelanggan_id = i.pelanggan_id
         JOIN billing_customers c ON c.id = i.pelanggan_id JOIN billing_packages pk ON pk.id = c.paket_layanan_id
        WHERE i.status_invoice IN ('Jatuh Tempo', 'Menunggu Pembayaran') AND c.status = 'Aktif'
          AND c.deleted_at IS NULL
        GROUP BY i.pelanggan_id HAVING count(*) = 1 ORDER BY random() LIMIT ${PAYMENTS * 3}`,
    );
    const referenceOf = new Map<number, string>();
    if (PAY === 'xendit') {
      const linkStarted = performance.now();
      const queue = [...candidates];
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let p = queue.shift(); p; p = queue.shift()) {
            await call('POST', `/api/invoices/${p.invoice_id}/payment-link`);
          }
        }),
      );
      for (const r of await sqlExec(
        app,
        'SELECT pelanggan_id, payment_reference FROM billing_invoices WHERE id = ANY($1::int[])',
        [candidates.map((p) => p.invoice_id)],
      )) {
        referenceOf.set(Number(r.pelanggan_id), String(r.payment_reference));
      }
      console.log(`${referenceOf.size} Xendit payment links made in ${seconds(performance.now() - linkStarted)}`);
    }

    const started = performance.now();
    const run = (await call('POST', '/api/pelanggan/isolir/run')) as { isolated: number; pelanggan_ids: number[] };
    const sweepMs = performance.now() - started;
    console.log(`sweep: ${run.isolated} isolated in ${seconds(sweepMs)}; load ${loadavg()[0]?.toFixed(1)}`);

    // 4. Payments while the isolations drain: customers with one unpaid invoice, paid once isolated on the router.
    const isolatedNow = new Set(run.pelanggan_ids);
    const payable = candidates.filter((p) => isolatedNow.has(Number(p.pelanggan_id)));
    const latencies: number[] = [];
    const requestMs: number[] = [];
    /** The payments that started while the isolations were still being written. */
    const loaded: number[] = [];
    /** The ones that started after the last isolation was written. */
    const after: number[] = [];
    let duringLoad = 0;
    let draining = true;
    const profileOf = async (p: Record<string, unknown>) => {
      const client = watch[routerOf.get(Number(p.pelanggan_id)) ?? 0];
      return (await client?.secrets({ name: String(p.name) }))?.[0]?.profile;
    };
    const payOne = async (p: Record<string, unknown>) => {
      const t0 = performance.now();
      const wasDraining = draining;
      let answered: number;
      if (PAY === 'xendit') {
        // Xendit's invoice callback, sent by the fake over HTTP with the brand's token (it awaits the answer).
        const reference = referenceOf.get(Number(p.pelanggan_id)) ?? '';
        await xendit.pay(reference);
        answered = performance.now() - t0;
        const sent = xendit.callbacks.findLast((c) => c.body.external_id === reference);
        if (sent?.status !== 200) throw new Error(`callback for ${reference} answered ${sent?.status ?? sent?.error}`);
      } else {
        await call('POST', `/api/invoices/${p.invoice_id}/mark-as-paid`, { metode_pembayaran: 'Tunai' });
        answered = performance.now() - t0;
      }
      for (;;) {
        if ((await profileOf(p)) === p.profile) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      latencies.push(performance.now() - t0);
      requestMs.push(answered);
      if (wasDraining) {
        duringLoad++;
        loaded.push(performance.now() - t0);
      } else after.push(performance.now() - t0);
    };
    const payments = (async () => {
      const inFlight = new Set<Promise<void>>();
      let waiting = [...payable];
      // Passes over the candidates until enough have paid: only a customer already isolated on its router pays
      // (its restore is then a change the router must see); the others wait for a later pass.
      while (waiting.length > 0 && latencies.length + inFlight.size < PAYMENTS) {
        const later: typeof waiting = [];
        for (const p of waiting) {
          if (latencies.length + inFlight.size >= PAYMENTS) break;
          if ((await profileOf(p)) !== 'ISOLIR') {
            later.push(p);
            continue;
          }
          const one = payOne(p).finally(() => inFlight.delete(one));
          inFlight.add(one);
          if (inFlight.size >= 8) await Promise.race(inFlight);
        }
        if (!draining && later.length === waiting.length) break;
        waiting = later;
        await new Promise((r) => setTimeout(r, 50));
      }
      await Promise.all(inFlight);
    })();

    const pending = async () =>
      Number(
        (
          await sqlExec(
            app,
            `SELECT count(*) AS n FROM billing_provisioning WHERE applied_version < version AND reason = 'isolate'`,
          )
        )[0]?.n,
      );
    let left = await pending();
    while (left > 0) {
      await new Promise((r) => setTimeout(r, 100));
      left = await pending();
    }
    const drainMs = performance.now() - started;
    draining = false;
    const loadDuring = loadavg()[0]?.toFixed(1);
    // Checked on the routers: every customer isolated by the run and not paid since holds the isolation profile.
    const onRouters = new Map<string, string>();
    for (const client of watch) for (const s of await client.secrets()) onRouters.set(s.name, s.profile);
    const names = await sqlExec(
      app,
      `SELECT t.id_pelanggan AS name, c.status FROM billing_technical_data t JOIN billing_customers c ON c.id = t.pelanggan_id
        WHERE t.pelanggan_id = ANY($1::int[])`,
      [run.pelanggan_ids],
    );
    const stillIsolated = names.filter((n) => n.status === 'Isolir');
    const wrong = stillIsolated.filter((n) => onRouters.get(String(n.name)) !== 'ISOLIR').length;
    row(
      'isolation run: sweep to the last isolation profile on its router',
      seconds(drainMs),
      `${run.isolated} customers isolated of ${live} live (sweep ${seconds(sweepMs)}), ${wrong} not ISOLIR on the router after`,
    );
    await payments;
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
    requestMs.sort((a, b) => a - b);
    const qr = (p: number) => requestMs[Math.min(requestMs.length - 1, Math.floor(p * requestMs.length))] ?? Number.NaN;
    row(
      PAY === 'xendit' ? 'callback answered (of the above)' : 'mark-as-paid answered (of the above)',
      `p50 ${Math.round(qr(0.5))} ms, p99 ${Math.round(qr(0.99))} ms`,
    );
    loaded.sort((a, b) => a - b);
    const ql = (p: number) => loaded[Math.min(loaded.length - 1, Math.floor(p * loaded.length))] ?? Number.NaN;
    row(
      'the same, payments started while the isolations drained',
      `p50 ${Math.round(ql(0.5))} ms, p99 ${Math.round(ql(0.99))} ms, max ${Math.round(ql(1))} ms`,
      `${loaded.length} payments`,
    );
    after.sort((a, b) => a - b);
    const qa = (p: number) => after[Math.min(after.length - 1, Math.floor(p * after.length))] ?? Number.NaN;
    row(
      'the same, payments started after the isolations drained',
      `p50 ${Math.round(qa(0.5))} ms, p99 ${Math.round(qa(0.99))} ms, max ${Math.round(qa(1))} ms`,
      `${after.length} payments`,
    );
    row(
      PAY === 'xendit'
        ? 'Xendit invoice callback to the package profile on the router'
        : 'cash payment to the package profile on the router',
      `p50 ${Math.round(q(0.5))} ms, p99 ${Math.round(q(0.99))} ms, max ${Math.round(q(1))} ms`,
      `${latencies.length} payments, ${duringLoad} of them started while the isolations drained`,
    );

    // 5. Reconcile after it all: in step.
    rec = await reconcileAll();
    row(
      'reconcile, all routers after the run',
      seconds(rec.ms),
      `${rec.checked} secrets compared, ${rec.missing + rec.wrong} fixed`,
    );
    console.log(
      `\nload average during the run: ${loadDuring} (1 min), now ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );
    const transports = routerIds.map((_, i) => transportOf(i));
    console.log(
      `routers ${ROUTERS} (${transports.filter((x) => x === 'api').length} API, ${
        transports.filter((x) => x === 'rest').length
      } REST${REST_TLS ? ' over HTTPS' : ' over HTTP'}), latency ${LATENCY_MS} ms per command, customers ${CUSTOMERS}, payments ${PAY}\n`,
    );
    console.log('| step | time | notes |\n|---|---|---|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    for (const c of watch) await c.close();
  } finally {
    await app.close();
    closeRouterConnections();
    await xendit.close();
    child.stdin.end();
  }
}

async function sqlExec(app: Awaited<ReturnType<typeof buildApp>>, text: string, values: unknown[] = []) {
  const res = await app.loket.database.pool.query(text, values);
  return res.rows as Record<string, unknown>[];
}
