// The kiosk page in a real browser (Debian's Chromium driven by playwright-core), against Loket on a real socket
// with response encryption on: the operator's kiosk key goes in once, a location is chosen, the QR is drawn from
// the QRIS string, the payment is made through the simulator's pay route (Xendit's callback into the real webhook),
// and the page — polling and decrypting every 3 s — shows the success screen. A screenshot is kept.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import jsQRModule from 'jsqr';
import { type Browser, chromium, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQris } from '../src/core/payments/qris.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { freePort } from './helpers/net.ts';

// jsqr is CommonJS whose types declare an ES default export: under Node's own interop the import is the function.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '..', 'test-results');

let t: TestApp;
let base: string;
let browser: Browser;
let kioskKey: string;
let admin: Record<string, string>;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  t = await startTestApp({
    config: {
      modules: ['photobox'],
      publicUrl: base,
      encryptionEnabled: true,
      encryptionKey: 'k1osk-test-key-0123456789abcdefg',
      encryptionIv: 'kiosk-iv-0123456',
    },
  });
  await t.app.listen({ host: '127.0.0.1', port });
  admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: 50 }))).access_token);
  const loc = await t.app.inject({
    method: 'POST',
    url: '/api/v1/locations',
    headers: admin,
    payload: { ml_name: 'Mall Kelapa Gading', ml_address: 'Jl. Boulevard Raya' },
  });
  expect(loc.statusCode, loc.body).toBeLessThan(300);
  const kiosk = await t.app.inject({
    method: 'POST',
    url: '/api/v1/kiosks',
    headers: admin,
    payload: { name: 'Kiosk MKG 1' },
  });
  expect(kiosk.statusCode, kiosk.body).toBe(201);
  kioskKey = kiosk.json().data.api_key;
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run installs Debian's chromium`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function screen(page: Page, name: string) {
  // A function, not a string: the page's CSP (script-src 'self') forbids eval. Runs in the browser.
  const onScreen = (n: string) =>
    (globalThis as unknown as { document: { body: { dataset: { screen?: string } } } }).document.body.dataset.screen ===
    n;
  await page.waitForFunction(onScreen, name, { timeout: 20_000 });
}

describe('kiosk page', () => {
  it('key once → choose a location → QR from the QRIS string → pay → success screen (encryption on)', async () => {
    const page = await browser.newPage({ viewport: { width: 720, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const polls: string[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/api/v1/transactions/external/')) polls.push(r.url());
    });

    await page.goto(`${base}/kiosk`);
    await screen(page, 'setup');
    await page.fill('#setup-key', kioskKey);
    await page.click('#setup-form button[type=submit]');
    await screen(page, 'choose');
    await page.click('#locations button:has-text("Mall Kelapa Gading")');
    await screen(page, 'pay');

    // The QR on screen is the transaction's QRIS string (a valid, CRC-checked dynamic QRIS), drawn as SVG.
    const qris = (await page.getAttribute('#qr', 'data-qris')) as string;
    const parsed = parseQris(qris);
    expect(parsed).toMatchObject({ valid: true, pointOfInitiation: 'dynamic', amount: 40_000 });
    expect(await page.locator('#qr svg').count()).toBe(1);
    // What a phone's camera would read: the QR as rendered on screen, decoded from a screenshot of it.
    const png = PNG.sync.read(await page.locator('#qr svg').screenshot());
    const scanned = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(scanned?.data).toBe(qris);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'kiosk-qr.png') });
    expect(await page.textContent('#amount')).toContain('40.000');
    expect(await page.textContent('#countdown')).toMatch(/^1[45]:\d\d$/);
    const reference = (await page.textContent('#reference')) as string;
    expect(reference).toMatch(/^TRX-\d+-\d{14}-[0-9A-F]{8}$/);

    // The answers the page polls are encrypted: the page had to decrypt them to get this far.
    const raw = await t.app.inject({ method: 'GET', url: `/api/v1/transactions/external/${reference}` });
    expect(Object.keys(raw.json())).toEqual(['data']);

    const paid = await fetch(`${base}/_dev/payments/${reference}/pay`, { method: 'POST' });
    expect(paid.status).toBe(200);
    await screen(page, 'success');
    expect(await page.textContent('#success h1')).toContain('berhasil');
    expect(polls.length).toBeGreaterThan(0);
    expect(errors).toEqual([]);

    await page.screenshot({ path: join(SHOTS, 'kiosk-success.png') });
    await page.close();
  }, 60_000);

  it('polls at once when the QR is shown, not a period later; "Batal" cancels the transaction (finding 4, 5)', async () => {
    const page = await browser.newPage();
    const created: number[] = [];
    const polled: number[] = [];
    page.on('response', (r) => {
      if (r.request().method() === 'POST' && r.url().endsWith('/api/v1/transactions')) created.push(Date.now());
      if (r.url().includes('/api/v1/transactions/external/')) polled.push(Date.now());
    });
    await page.goto(`${base}/kiosk#key=${encodeURIComponent(kioskKey)}`);
    await screen(page, 'choose');
    await page.click('#locations button');
    await screen(page, 'pay');
    const reference = (await page.textContent('#reference')) as string;
    await page.waitForResponse((r) => r.url().includes('/api/v1/transactions/external/'), { timeout: 10_000 });
    // The polling period is 3 s: a first answer well within it was asked for at once.
    expect((polled[0] as number) - (created[0] as number)).toBeLessThan(2_000);

    await page.click('#cancel');
    await screen(page, 'choose');
    const status = await t.app.inject({ method: 'GET', url: `/api/v1/transactions/external/${reference}` });
    expect(status.statusCode).toBe(200);
    // The answer is encrypted here (ENCRYPTION_ENABLED): read the transaction through the back office instead.
    const listed = await t.app.inject({
      method: 'GET',
      url: `/api/v1/transactions?search=${reference}`,
      headers: admin,
    });
    expect(listed.json().data[0].tr_status).toBe('EXPIRED');
    // The QR code is closed: the simulator's bank refuses to pay it.
    expect((await fetch(`${base}/_dev/payments/${reference}/pay`, { method: 'POST' })).status).toBe(409);
    await page.close();
  }, 60_000);

  it('a payment that expires ends on the expired screen; a revoked key sends the kiosk back to set-up', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/kiosk#key=${encodeURIComponent(kioskKey)}`);
    await screen(page, 'choose');
    await page.click('#locations button');
    await screen(page, 'pay');
    const reference = (await page.textContent('#reference')) as string;
    expect((await fetch(`${base}/_dev/payments/${reference}/expire`, { method: 'POST' })).status).toBe(200);
    await screen(page, 'expired');
    expect(await page.textContent('#expired-title')).toContain('habis');

    const rotated = await t.app.inject({ method: 'GET', url: '/api/v1/kiosks', headers: admin });
    const id = rotated.json().data[0].kiosk_id;
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/kiosks/${id}/key`, headers: admin })).statusCode).toBe(
      201,
    );
    await page.click('#again-expired');
    await screen(page, 'setup');
    expect(await page.isVisible('#error')).toBe(true);
    await page.close();
  }, 60_000);
});
