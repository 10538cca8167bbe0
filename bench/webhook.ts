// Latency of the Xendit webhook intake (token check, raw storage, dedup, amount check, job enqueue, answer),
// through the full HTTP pipeline with app.inject, one delivery at a time.
// Run: npm run bench:webhook   (embedded; set DATABASE_URL for PostgreSQL)
import { randomBytes } from 'node:crypto';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';

const N = Number(process.env.BENCH_N ?? 500);
const config = {
  ...loadConfig({ LOG_LEVEL: 'error', LOKET_DEMO: '0', ...process.env }),
  modules: [],
  dataDir: 'memory://',
};
const app = await buildApp(config);
await app.ready();
const { payments } = app.loket;

const intents = [];
for (let i = 0; i < N; i++) {
  intents.push(
    await payments.createQr({
      module: 'bench',
      reference: `B-${randomBytes(6).toString('hex')}`,
      amount: 40_000,
      ttlMs: 900_000,
    }),
  );
}
const samples: number[] = [];
for (const intent of intents) {
  const t0 = performance.now();
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/webhooks/xendit',
    headers: { 'x-callback-token': config.xenditCallbackToken as string },
    payload: { external_id: intent.reference, status: 'COMPLETED', xendit_id: `qrpy_${intent.id}` },
  });
  samples.push(performance.now() - t0);
  if (res.statusCode !== 200) throw new Error(`webhook answered ${res.statusCode}: ${res.body}`);
}
samples.sort((a, b) => a - b);
const at = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]?.toFixed(2);
console.log(
  `webhook intake n=${N} p50=${at(0.5)} ms p95=${at(0.95)} ms p99=${at(0.99)} ms max=${at(1)} ms (${app.loket.database.kind})`,
);
await app.close();
