// Issue 21, the findings the audit (docs/COMPATIBILITY.md, "Findings and their tests") found without a test that
// would fail on the old behaviour: 1 (the photobox document's webhook body for a second transaction), 21 (staff's
// paths without their slash redirect as FastAPI does) and 27 (the token lifetime the README tells an operator of the
// original IM3 frontend to choose: that setting exists, is accepted, and a token then lives that long).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { waitFor } from './helpers/photobox.ts';
import type { Res } from './helpers/seed-examples.ts';

const CALLBACK_TOKEN = 'your_callback_token_here';

describe('finding 1: the flat webhook is told apart by external_id', () => {
  let t: TestApp;
  let kiosk: Record<string, string>;
  beforeAll(async () => {
    t = await startTestApp({
      env: { XENDIT_CALLBACK_TOKEN: CALLBACK_TOKEN },
      config: { modules: ['photobox'], demo: true },
    });
    kiosk = bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: 1 }))).access_token);
  });
  afterAll(async () => t?.close());

  const status = async (ext: string) =>
    (await t.app.inject({ method: 'GET', url: `/api/v1/transactions/external/${ext}`, headers: kiosk })).json().data
      .tr_status as string;

  it("the document's example body, sent for two transactions in turn, completes both", async () => {
    const hook = (external_id: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/xendit',
        headers: { 'content-type': 'application/json', 'x-callback-token': CALLBACK_TOKEN },
        // The document's body: its xendit_id is the same every time a client copies it.
        payload: { external_id, status: 'COMPLETED', xendit_id: 'qr_5d408580-80cf-471a-a69f-976daadf1b84' },
      }) as Promise<Res>;
    const refs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const tr = await t.app.inject({
        method: 'POST',
        url: '/api/v1/transactions',
        headers: kiosk,
        payload: { location_id: 2 },
      });
      expect(tr.statusCode, tr.body).toBe(201);
      refs.push(tr.json().data.tr_external_id);
    }
    for (const ext of refs) {
      const res = await hook(ext);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().message).not.toMatch(/already received/i);
      await waitFor(`${ext} COMPLETED`, async () => (await status(ext)) === 'COMPLETED');
    }
    // The same delivery again for the first one is the duplicate, and changes nothing.
    const again = await hook(refs[0] as string);
    expect(again.statusCode).toBe(200);
    expect(again.json().message).toMatch(/already received/i);
    expect(await status(refs[0] as string)).toBe('COMPLETED');
  });
});

describe('finding 21: /jabatan and /users without the slash', () => {
  let t: TestApp;
  let h: Record<string, string>;
  beforeAll(async () => {
    t = await startTestApp({ config: { modules: ['staff'], demo: true } });
    h = bearer((await tokensFor(t.app, await makeAccount(t.app, { staff: 50 }))).access_token);
  });
  afterAll(async () => t?.close());

  it('answer a 307 to the declared path, the query kept, as FastAPI redirects (CONTRACTS §6)', async () => {
    for (const [url, to] of [
      ['/jabatan', '/jabatan/'],
      ['/users', '/users/'],
      ['/users?skip=0&limit=5', '/users/?skip=0&limit=5'],
    ] as const) {
      const res = await t.app.inject({ method: 'GET', url, headers: h });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(307);
      expect(res.headers.location).toBe(to);
      const followed = await t.app.inject({ method: 'GET', url: to, headers: h });
      expect(followed.statusCode, followed.body).toBe(200);
      expect(Array.isArray(followed.json())).toBe(true);
    }
    // A POST keeps its method and body through the 307 (a browser and requests both resend it).
    const post = await t.app.inject({
      method: 'POST',
      url: '/jabatan',
      headers: h,
      payload: { nama_jabatan: 'Kasir' },
    });
    expect(post.statusCode).toBe(307);
    expect(post.headers.location).toBe('/jabatan/');
  });
});

describe('finding 27: the token lifetime for the original IM3 frontend', () => {
  const README = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const advised = Number(/should set `ACCESS_TOKEN_TTL_MINUTES=(\d+)`/.exec(README)?.[1]);
  const clock = fakeClock();
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { ACCESS_TOKEN_TTL_MINUTES: String(advised) },
      config: { modules: ['im3'] },
      overrides: { now: clock.now },
    });
  });
  afterAll(async () => t?.close());

  it('the README names a value the configuration accepts (its maximum, one sign-in a day)', () => {
    expect(advised).toBe(1440);
    expect(loadConfig({ ACCESS_TOKEN_TTL_MINUTES: String(advised) }).accessTokenTtlMinutes).toBe(advised);
    expect(() => loadConfig({ ACCESS_TOKEN_TTL_MINUTES: String(advised + 1) })).toThrow(/ACCESS_TOKEN_TTL_MINUTES/);
  });

  it('with it, a token works for a day without a refresh, and not after', async () => {
    const a = await makeAccount(t.app, { im3: 1 });
    const h = bearer((await tokensFor(t.app, a)).access_token);
    const me = () => t.app.inject({ method: 'GET', url: '/api/user/me', headers: h });
    expect((await me()).statusCode).toBe(200);
    clock.advance(23 * 3600_000); // past the default hour, within the day
    const later = await me();
    expect(later.statusCode, later.body).toBe(200);
    clock.advance(61 * 60_000);
    const expired = await me();
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toMatchObject({ success: false, error: { code: 'AUTHENTICATION_ERROR' } });
  });
});
