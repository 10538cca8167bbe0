// A restart in the middle of an IM3 purchase: the app stops after the purchase has started; a new app on the same
// database continues it from where it stood, through every remaining status.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { createTestDatabase, REAL_PG } from './helpers/db.ts';
import { bearer } from './helpers/identity.ts';
import { waitFor } from './helpers/photobox.ts';

const ENV = { IM3_SIMULATOR_STEP_MS: '300', IM3_ELIGIBILITY_INTERVAL_MS: '300', IM3_PAYMENT_POLL_MS: '200' };
const dir = mkdtempSync(join(tmpdir(), 'loket-im3-'));
const apps: TestApp[] = [];
afterAll(async () => {
  for (const a of apps) await a.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

it('continues a purchase after a restart', async () => {
  const db = await createTestDatabase({ dataDir: REAL_PG ? undefined : join(dir, 'pg') });
  const first = await startTestApp({ env: ENV, db, config: { modules: ['im3'] } });
  apps.push(first);
  const inject = (app: TestApp, method: 'GET' | 'POST' | 'PUT', url: string, headers = {}, payload?: object) =>
    app.app.inject({ method, url, headers, payload });
  const username = `r_${randomBytes(4).toString('hex')}`;
  const phone = `62813${String(Math.floor(Math.random() * 1e7)).padStart(7, '2')}`;
  await inject(first, 'POST', '/api/auth/register', {}, { username, password: 'password-123' });
  const token = (await inject(first, 'POST', '/api/auth/login', {}, { username, password: 'password-123' })).json().data
    .access_token;
  const h = bearer(token);
  await inject(first, 'PUT', '/api/user/me', h, { phone_number: phone });
  await inject(first, 'GET', '/api/im3/send-otp', h);
  const sms = (await inject(first, 'GET', `/_dev/outbox?to=${phone}&channel=sms&limit=1`)).json().messages[0].body;
  const code = /(\d{6})/.exec(sms)?.[1];
  expect((await inject(first, 'POST', '/api/im3/verify-otp', h, { code })).statusCode).toBe(200);
  const db0 = first.app.loket.database.db;
  const pkg = await db0
    .insertInto('im3_packages')
    .values({
      pvr_code: 'R1',
      keyword: 'K',
      discount_price: 10_000,
      normal_price: 12_000,
      package_name: 'P',
      created_at: new Date(),
      updated_at: new Date(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const res = await inject(first, 'POST', '/api/packages/packages/purchase', h, { package_id: pkg.id });
  expect(res.statusCode, res.body).toBe(202);
  const id = res.json().data.transaction_id as number;
  const statusIn = async (app: TestApp) =>
    (await inject(app, 'GET', `/api/packages/transactions/${id}`, h)).json().data as {
      status: string;
      status_history: { status: string }[];
    };
  await waitFor('PROCESSING or later', async () => (await statusIn(first)).status !== 'PENDING', 20_000);
  const before = (await statusIn(first)).status;
  expect(['COMPLETED', 'FAILED', 'CANCELLED']).not.toContain(before);
  await first.close();
  apps.pop();

  const second = await startTestApp({ env: ENV, db, config: { modules: ['im3'] } });
  apps.push(second);
  await waitFor('PAYMENT_INITIATED', async () => (await statusIn(second)).status === 'PAYMENT_INITIATED', 30_000);
  expect((await inject(second, 'POST', `/_dev/im3/transactions/${id}/pay`)).statusCode).toBe(200);
  const done = await waitFor(
    'COMPLETED',
    async () => {
      const s = await statusIn(second);
      return s.status === 'COMPLETED' ? s : undefined;
    },
    20_000,
  );
  expect(done.status_history.map((e) => e.status)).toEqual([
    'PENDING',
    'PROCESSING',
    'CHECKING_ELIGIBILITY',
    'WAITING_FOR_ELIGIBILITY',
    'INITIATING_PAYMENT',
    'PAYMENT_INITIATED',
    'COMPLETED',
  ]);
  await db.drop();
}, 90_000);
