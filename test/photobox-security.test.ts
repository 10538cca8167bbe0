// The 401/403 matrix of every protected photobox route (shared security suites), the kiosk-key guard, the public
// routes, and the demo data.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { photoboxModule } from '../src/modules/photobox/index.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { apiKeySecuritySuite, bearerSecuritySuite, type ProtectedRoute } from './helpers/security.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['photobox'], demo: true } });
});
afterAll(async () => t?.close());

const M = 'photobox';
const readers: ProtectedRoute[] = [
  { method: 'GET', url: '/api/v1/transactions', module: M, minLevel: 1 },
  { method: 'GET', url: '/api/v1/transactions/count?status=PENDING', module: M, minLevel: 1 },
];
// The routes a kiosk uses: a bearer token or a kiosk's x-api-key.
const kioskRoutes: ProtectedRoute[] = [
  { method: 'GET', url: '/api/v1/locations', module: M, minLevel: 1 },
  { method: 'GET', url: '/api/v1/locations/1', module: M, minLevel: 1 },
  { method: 'GET', url: '/api/v1/prices', module: M, minLevel: 1 },
  { method: 'GET', url: '/api/v1/prices/1', module: M, minLevel: 1 },
  { method: 'POST', url: '/api/v1/transactions', module: M, minLevel: 1, payload: { location_id: 1 } },
  { method: 'POST', url: '/api/v1/transactions/TRX-1-20250101000000-00000000/photos', module: M, minLevel: 1 },
];
const writers: ProtectedRoute[] = [
  { method: 'POST', url: '/api/v1/locations', module: M, minLevel: 50, payload: { ml_name: 'Security Mall' } },
  { method: 'PUT', url: '/api/v1/locations/1', module: M, minLevel: 50, payload: { ml_address: 'Jl. Aman 1' } },
  { method: 'DELETE', url: '/api/v1/locations/999999', module: M, minLevel: 50 },
  { method: 'POST', url: '/api/v1/prices', module: M, minLevel: 50, payload: { mp_name: 'Sec', mp_amount: 1000 } },
  { method: 'PUT', url: '/api/v1/prices/1', module: M, minLevel: 50, payload: { mp_amount: 40_000 } },
  { method: 'DELETE', url: '/api/v1/prices/999999', module: M, minLevel: 50 },
  { method: 'POST', url: '/api/v1/kiosks', module: M, minLevel: 50, payload: { name: 'Security kiosk' } },
  { method: 'GET', url: '/api/v1/kiosks', module: M, minLevel: 50 },
  { method: 'POST', url: '/api/v1/kiosks/999999/key', module: M, minLevel: 50 },
  { method: 'DELETE', url: '/api/v1/kiosks/999999', module: M, minLevel: 50 },
];

describe('bearer tokens: 401 for bad credentials, 403 below the level', () => {
  for (const route of [...readers, ...kioskRoutes, ...writers]) bearerSecuritySuite(() => t, route);
});

describe('kiosk API keys on the kiosk routes', () => {
  for (const route of kioskRoutes) apiKeySecuritySuite(() => t, route);

  it('a photobox key whose owner has no photobox level is 403; a kiosk key is refused on every other route', async () => {
    const none = await makeAccount(t.app, { ppob: 1 });
    const noLevel = await t.app.loket.identity.apiKeys.issue(t.app.loket.database.db, none.id, M);
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/locations',
      headers: { 'x-api-key': noLevel.apiKey },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ success: false, data: null });

    // Even a photobox admin's key is only a key: it opens the kiosk routes, nothing else.
    const boss = await makeAccount(t.app, { photobox: 50 });
    const key = { 'x-api-key': (await t.app.loket.identity.apiKeys.issue(t.app.loket.database.db, boss.id, M)).apiKey };
    for (const route of [...readers, ...writers]) {
      const r = await t.app.inject({
        method: route.method,
        url: route.url,
        headers: key,
        payload: route.payload as object,
      });
      expect(r.statusCode, `${route.method} ${route.url}`).toBe(401);
    }
  });
});

describe('public routes', () => {
  it('polling, the gallery and photo files need no credentials (404 for what does not exist)', async () => {
    for (const url of [
      '/api/v1/transactions/external/TRX-1-20250101000000-00000000',
      '/api/v1/transactions/TRX-1-20250101000000-00000000/photos',
      `/api/v1/photos/${randomBytes(24).toString('base64url')}`,
    ]) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toMatchObject({ success: false, data: null });
    }
  });

  it('no secret reaches the logs', async () => {
    const admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: 50 }))).access_token);
    const k = await t.app.inject({
      method: 'POST',
      url: '/api/v1/kiosks',
      headers: admin,
      payload: { name: `Log ${randomBytes(3).toString('hex')}` },
    });
    const key = k.json().data.api_key as string;
    await t.app.inject({ method: 'GET', url: '/api/v1/locations', headers: { 'x-api-key': key } });
    expect(t.logs.text).not.toContain(key);
    expect(t.logs.text).not.toContain(admin.authorization.slice(7));
  });
});

describe('OpenAPI', () => {
  it('documents the photobox routes with both security schemes on the kiosk routes', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const path of [
      '/api/v1/transactions',
      '/api/v1/transactions/external/{external_id}',
      '/api/v1/transactions/{external_id}/photos',
      '/api/v1/locations/{id}',
      '/api/v1/prices',
      '/api/v1/kiosks',
      '/api/v1/photos/{token}',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.paths['/api/v1/transactions'].post.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
  });
});

describe('demo data', () => {
  it('demo mode seeds locations and prices, once', async () => {
    const admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: 1 }))).access_token);
    const locations = (await t.app.inject({ method: 'GET', url: '/api/v1/locations', headers: admin })).json();
    expect(locations.data.map((l: { ml_name: string }) => l.ml_name)).toEqual(
      expect.arrayContaining(['Mall Taman Anggrek', 'Mall Kelapa Gading']),
    );
    const prices = (await t.app.inject({ method: 'GET', url: '/api/v1/prices', headers: admin })).json();
    expect(prices.data).toContainEqual(expect.objectContaining({ mp_amount: 25_000, mp_quota: 50 }));
    const before = prices.total;
    await photoboxModule.demo?.(await photoboxModule.wire(t.app.loket), t.app.loket);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/prices', headers: admin })).json().total).toBe(before);
  });
});
