// Loket configured for Xendit, talking to the fake Xendit over real HTTP, receiving its callbacks on a real socket.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeXendit, startFakeXendit } from './fakes/xendit.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { freePort } from './helpers/net.ts';
import { until } from './helpers/until.ts';

let fake: FakeXendit;
const apps: TestApp[] = [];
beforeAll(async () => {
  fake = await startFakeXendit();
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await fake?.close();
});

// v1 QR codes carry their own callback URL, built from PUBLIC_URL, so Loket must know its address up front.
async function loketOn(version: 'v1' | 'v2'): Promise<{ t: TestApp; base: string }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t = await startTestApp({
    config: {
      publicUrl: base,
      xenditSecretKey: fake.secretKey,
      xenditBaseUrl: fake.url,
      xenditQrApiVersion: version,
      xenditCallbackToken: fake.callbackToken,
      xenditTimeoutMs: 3000,
    },
  });
  apps.push(t);
  await t.app.listen({ host: '127.0.0.1', port });
  return { t, base };
}

describe.each(['v1', 'v2'] as const)('with Xendit QR codes %s', (version) => {
  it('creates the QR code at Xendit and completes when Xendit calls back', async () => {
    const { t, base } = await loketOn(version);
    // No module is mounted, so the core answers the webhook at its own path (`/api/v1/…` is photobox's).
    fake.setCallbackUrl(`${base}/webhooks/xendit`);
    const reference = `TRX-1-${randomBytes(4).toString('hex').toUpperCase()}`;
    const intent = await t.app.loket.payments.createQr({ module: 'test', reference, amount: 40_000, ttlMs: 900_000 });
    expect(intent.provider).toBe('xendit');
    expect(intent.provider_id).toMatch(/^qr_/);
    expect(intent.qr_string).toMatch(/^000201/);
    const created = fake.requests.find((r) => r.method === 'POST' && r.path === '/qr_codes');
    expect(created).toBeDefined();
    await fake.pay(reference);
    await until(async () => (await t.app.loket.payments.find(reference))?.status === 'COMPLETED');
    const sent = fake.callbacks.at(-1);
    expect(sent).toBeDefined();
  });
});

describe('when Xendit refuses', () => {
  it('the payment is FAILED with the reason and the caller gets a 502-class error', async () => {
    const { t } = await loketOn('v2');
    fake.failNext(400, { error_code: 'API_VALIDATION_ERROR', message: 'amount is too small' });
    const reference = `TRX-1-${randomBytes(4).toString('hex').toUpperCase()}`;
    await expect(
      t.app.loket.payments.createQr({ module: 'test', reference, amount: 40_000, ttlMs: 900_000 }),
    ).rejects.toMatchObject({ code: 'EXTERNAL_SERVICE_ERROR' });
    const intent = await t.app.loket.payments.find(reference);
    expect(intent?.status).toBe('FAILED');
    expect(intent?.failure_reason).toContain('API_VALIDATION_ERROR');
  });
});
