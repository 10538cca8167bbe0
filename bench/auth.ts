// Cost per request of the two credential checks on their cached path, measured in process:
//   bearer: JWT verification (jose, HS256) + revocation check + cached account state + level
//   api key: shape/checksum + SHA-256 + cache lookup + cached account state
// Run: npm run bench:auth   (embedded database; set DATABASE_URL to use PostgreSQL)
import type { FastifyRequest } from 'fastify';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';

const N = Number(process.env.BENCH_N ?? 20_000);
const config = {
  ...loadConfig({ LOG_LEVEL: 'error', LOKET_DEMO: '0', ...process.env }),
  modules: [],
  dataDir: 'memory://',
};
const app = await buildApp(config);
await app.ready();
const { identity, database } = app.loket;

const email = `bench-${Date.now()}@example.com`;
const account = await identity.service.createAccount(
  { email, name: 'Bench', password: 'bench-password-1', memberships: { photobox: 50 } },
  null,
  { requestId: null, ip: null },
);
const { tokens } = await identity.service.login(email, 'bench-password-1');
const keys = await identity.apiKeys.issue(database.db, account.id, 'ppob');
const bearerGuard = identity.guards.bearer('photobox', 50);
const keyGuard = identity.guards.apiKey('ppob');

const fakeRequest = (headers: Record<string, string>) => ({ headers }) as unknown as FastifyRequest;

async function measure(name: string, fn: () => Promise<void>) {
  for (let i = 0; i < 2000; i++) await fn(); // warm the caches and the JIT
  const samples = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  samples.sort();
  const at = (p: number) => samples[Math.min(N - 1, Math.floor(p * N))]?.toFixed(1);
  console.log(`${name.padEnd(8)} n=${N} p50=${at(0.5)} µs p90=${at(0.9)} µs p99=${at(0.99)} µs`);
}

const bearerReq = fakeRequest({ authorization: `Bearer ${tokens.access_token}` });
const keyReq = fakeRequest({ 'x-api-key': keys.apiKey });
await measure('bearer', async () => {
  await (bearerGuard as (r: FastifyRequest) => Promise<void>)(bearerReq);
});
await measure('api-key', async () => {
  await (keyGuard as (r: FastifyRequest) => Promise<void>)(keyReq);
});
// The uncached path: every token seen for the first time (signature verified by jose).
const fresh: string[] = [];
for (let i = 0; i < 3000; i++) fresh.push((await identity.sessions.start(account.id, 0)).access_token);
const firstUse = new Float64Array(fresh.length);
for (const [i, tok] of fresh.entries()) {
  const t0 = process.hrtime.bigint();
  await identity.sessions.verifyAccess(tok);
  firstUse[i] = Number(process.hrtime.bigint() - t0) / 1000;
}
firstUse.sort();
console.log(
  `bearer first use n=${fresh.length} p50=${firstUse[Math.floor(fresh.length / 2)]?.toFixed(1)} µs p99=${firstUse[Math.floor(fresh.length * 0.99)]?.toFixed(1)} µs`,
);
console.log(`node ${process.version}, database ${database.kind}`);
await app.close();
