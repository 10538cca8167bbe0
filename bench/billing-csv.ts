// Billing's CSV import and export at the size (50,000 customers) against the compiled server on real
// PostgreSQL, in a database of its own (loket_bench_csv). The import is one multipart upload of a generated file;
// the export streams all 50,000 rows back while the server's RSS is sampled every 20 ms (the server is a child
// process, so its memory is measured alone). Targets (issue 18): import ≤ 60 s; export ≤ 5 s with the server's
// memory growing < 100 MB.
//
// Run: npm run bench:billing-csv    (needs PostgreSQL; BENCH_PG_URL overrides postgres://postgres@127.0.0.1:5432)
// Env: BENCH_ROWS (default 50000), BENCH_EXPORTS (3, export runs).
import { readFileSync } from 'node:fs';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { benchAdmin, cpuSeconds, freshDatabase, PG_BASE, rssMb, startServer } from './lib.ts';

/** The server's CPU time so far (user + kernel), in seconds: less dependent than wall time on a shared machine. */
const cpu = (pid: number) => {
  const c = cpuSeconds(pid);
  return c.user + c.sys;
};
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

const DB_NAME = 'loket_bench_csv';
const ROWS = Number(process.env.BENCH_ROWS ?? 50_000);
const EXPORTS = Number(process.env.BENCH_EXPORTS ?? 3);
const PORT = Number(process.env.BENCH_PORT ?? 18806);
const DATABASE_URL = `${PG_BASE}/${DB_NAME}`;
const BASE = `http://127.0.0.1:${PORT}`;

const serverEnv: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  DATABASE_URL,
  LOKET_MODULES: 'billing',
  LOKET_DEMO: '0',
  LOKET_RATE_LIMITS: 'off',
  LOKET_SECRET: 'bench-secret-0123456789abcdef0123456789abcdef',
  LOG_LEVEL: 'warn',
  NODE_ENV: 'development',
};

/** A brand with three packages and an administrator's token, made in-process before the server starts. */
async function seed(): Promise<{ authorization: string }> {
  const config = { ...loadConfig({ ...serverEnv, LOG_LEVEL: 'error' }), modules: ['billing' as const] };
  const app = await buildApp(config);
  await app.ready();
  const admin = await benchAdmin(app, { billing: 50 });
  const post = async (url: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url, headers: admin, payload });
    if (res.statusCode !== 201) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  };
  await post('/api/brands/', { id_brand: 'BENCHNET', brand: 'Bench Net', pajak: 11 });
  for (const [nama_paket, kecepatan, harga] of [
    ['Internet 20Mbps', 20, 166_500],
    ['Internet 50Mbps', 50, 250_000],
    ['Internet 100Mbps', 100, 400_000],
  ] as const) {
    await post('/api/paket_layanan/', { id_brand: 'BENCHNET', nama_paket, kecepatan, harga });
  }
  await app.close();
  return admin;
}

/** The import file: the template's columns, every fifth customer without e-mail (identified by phone). */
function importFile(rows: number): string {
  const lines = ['Nama,No KTP,Email,No Telepon,Layanan,Alamat,Tanggal Instalasi (YYYY-MM-DD),ID Brand'];
  const packages = ['Internet 20Mbps', 'Internet 50Mbps', 'Internet 100Mbps'];
  for (let i = 1; i <= rows; i++) {
    const n = String(i).padStart(6, '0');
    const email = i % 5 === 0 ? '' : `pelanggan${n}@example.com`;
    const day = String((i % 28) + 1).padStart(2, '0');
    lines.push(
      `Pelanggan ${n},3201${String(i).padStart(12, '0')},${email},0812${String(i).padStart(8, '0')},` +
        `${packages[i % 3]},"Jl. Bench No. ${i % 500}, Blok ${i % 26}",2025-01-${day},BENCHNET`,
    );
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

await freshDatabase(DB_NAME);
const admin = await seed();
const csv = importFile(ROWS);
const server = await startServer(serverEnv, PORT);
const results: string[] = [];
try {
  // Import: one upload, timed from the first byte sent to the answer.
  const form = new FormData();
  form.append('file', new Blob([csv], { type: 'text/csv' }), 'pelanggan.csv');
  const rssBeforeImport = rssMb(server.pid);
  const cpu0 = cpu(server.pid);
  const t0 = performance.now();
  const res = await fetch(`${BASE}/api/pelanggan/import`, { method: 'POST', headers: admin, body: form });
  const importSeconds = (performance.now() - t0) / 1000;
  const answer = (await res.json()) as { created?: number };
  if (res.status !== 200 || answer.created !== ROWS)
    throw new Error(`import: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
  results.push(
    `import  ${ROWS} rows (${(csv.length / 1024 / 1024).toFixed(1)} MB): ${importSeconds.toFixed(2)} s ` +
      `(server CPU ${(cpu(server.pid) - cpu0).toFixed(2)} s, load ${load()}), ` +
      `RSS ${rssBeforeImport.toFixed(0)} → ${rssMb(server.pid).toFixed(0)} MB`,
  );

  // Export: the whole set, streamed; the RSS sampled while it runs.
  for (let run = 1; run <= EXPORTS; run++) {
    await new Promise((r) => setTimeout(r, 1000));
    const base = rssMb(server.pid);
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(server.pid));
    }, 20);
    const cpu1 = cpu(server.pid);
    const t1 = performance.now();
    const out = await fetch(`${BASE}/api/pelanggan/export/csv?limit=${ROWS}`, { headers: admin });
    let bytes = 0;
    let lines = 0;
    const first = performance.now();
    for await (const chunk of out.body ?? []) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) lines++;
    }
    const seconds = (performance.now() - t1) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, rssMb(server.pid));
    if (out.status !== 200 || lines < ROWS + 1) throw new Error(`export: ${out.status}, ${lines} lines`);
    results.push(
      `export  ${lines - 1} rows (${(bytes / 1024 / 1024).toFixed(1)} MB) run ${run}: ${seconds.toFixed(2)} s ` +
        `(server CPU ${(cpu(server.pid) - cpu1).toFixed(2)} s, load ${load()}) ` +
        `(headers after ${((first - t1) / 1000).toFixed(2)} s), RSS ${base.toFixed(0)} → peak ${peak.toFixed(0)} MB ` +
        `(+${(peak - base).toFixed(0)} MB)`,
    );
  }

  // A re-import of the same file creates nobody (the duplicate check at full size).
  const again = new FormData();
  again.append('file', new Blob([csv], { type: 'text/csv' }), 'pelanggan.csv');
  const t2 = performance.now();
  const reply = await fetch(`${BASE}/api/pelanggan/import`, { method: 'POST', headers: admin, body: again });
  const second = (await reply.json()) as { created: number; skipped: number };
  results.push(
    `re-import ${ROWS} rows: ${((performance.now() - t2) / 1000).toFixed(2)} s, created ${second.created}, skipped ${second.skipped}`,
  );
} finally {
  server.stop();
}
console.log(results.join('\n'));
