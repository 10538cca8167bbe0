// The shared security suite: every protected route of every module runs it.
//
//   securitySuite(() => t, { method: 'GET', url: '/api/v1/locations', module: 'photobox', minLevel: 1 });
//
// It checks, for bearer routes: no credentials, `alg: none`, a key guessed by an attacker, an expired token, a
// wrong `typ`, a logged-out token and a disabled account are all 401; a level below `minLevel` is 403 (when
// minLevel > 1); the right level passes the guard. For API-key routes: missing, malformed, guessed and rotated keys
// are 401. Passing the guard means "not 401/403": the route may still refuse the body it was given.
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { expect, it } from 'vitest';
import { deriveKey } from '../../src/core/crypto.ts';
import type { TestApp } from './app.ts';
import { bearer, makeAccount, tokensFor } from './identity.ts';

export interface ProtectedRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  module: string;
  minLevel: number;
  payload?: unknown;
}

async function forge(t: TestApp, sub: number, opts: { secret?: string; typ?: string; expOffset?: number } = {}) {
  const key = new Uint8Array(deriveKey(opts.secret ?? t.config.secret, 'jwt-hs256'));
  const kid = createHash('sha256').update(key).digest('hex').slice(0, 12);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ fam: randomUUID(), sv: 0 })
    .setProtectedHeader({ alg: 'HS256', typ: opts.typ ?? 'at+jwt', kid })
    .setSubject(String(sub))
    .setIssuer('loket')
    .setAudience('loket')
    .setIssuedAt(now - 7200)
    .setNotBefore(now - 7200)
    .setExpirationTime(now + (opts.expOffset ?? 600))
    .setJti(randomUUID())
    .sign(key);
}

function unsigned(sub: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub: String(sub),
    iss: 'loket',
    aud: 'loket',
    iat: now,
    nbf: now,
    exp: now + 600,
    jti: randomUUID(),
    sv: 0,
  };
  return `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`;
}

export function bearerSecuritySuite(getApp: () => TestApp, route: ProtectedRoute) {
  const call = (t: TestApp, headers: Record<string, string> = {}) =>
    t.app.inject({ method: route.method, url: route.url, headers, payload: route.payload as object | undefined });
  const label = `${route.method} ${route.url}`;

  it(`${label}: 401 without credentials, with alg none, a guessed key, an expired token, a wrong typ`, async () => {
    const t = getApp();
    const a = await makeAccount(t.app, { [route.module]: Math.max(route.minLevel, 1) });
    expect((await call(t)).statusCode).toBe(401);
    for (const token of [
      unsigned(a.id),
      await forge(t, a.id, { secret: 'an-attacker-guessed-this-secret-0000000000' }),
      await forge(t, a.id, { expOffset: -60 }),
      await forge(t, a.id, { typ: 'JWT' }),
      'not-a-token',
    ]) {
      expect((await call(t, bearer(token))).statusCode, token.slice(0, 40)).toBe(401);
    }
  });

  it(`${label}: 401 after logout and for a disabled account`, async () => {
    const t = getApp();
    const a = await makeAccount(t.app, { [route.module]: Math.max(route.minLevel, 1) });
    const pair = await tokensFor(t.app, a);
    expect([401, 403]).not.toContain((await call(t, bearer(pair.access_token))).statusCode);
    await t.app.inject({ method: 'POST', url: '/api/users/logout', headers: bearer(pair.access_token) });
    expect((await call(t, bearer(pair.access_token))).statusCode).toBe(401);

    const second = await tokensFor(t.app, a);
    await t.app.loket.database.db.updateTable('accounts').set({ status: 'disabled' }).where('id', '=', a.id).execute();
    await t.app.loket.identity.authState.changed(a.id);
    expect((await call(t, bearer(second.access_token))).statusCode).toBe(401);
  });

  it(`${label}: 403 below level ${route.minLevel}, allowed at it`, async () => {
    const t = getApp();
    if (route.minLevel > 1) {
      // Just below the bar: for platform routes, an admin of every module (but not of the platform).
      const lowLevels =
        route.module === 'platform'
          ? { ppob: 50, photobox: 50, staff: 50, billing: 50, im3: 50 }
          : { [route.module]: route.minLevel >= 50 ? 10 : 1 };
      const low = await makeAccount(t.app, lowLevels);
      expect((await call(t, bearer((await tokensFor(t.app, low)).access_token))).statusCode).toBe(403);
    }
    const none = await makeAccount(t.app, {});
    expect((await call(t, bearer((await tokensFor(t.app, none)).access_token))).statusCode).toBe(403);
    const ok = await makeAccount(t.app, { [route.module]: route.minLevel });
    expect([401, 403]).not.toContain((await call(t, bearer((await tokensFor(t.app, ok)).access_token))).statusCode);
  });
}

export function apiKeySecuritySuite(getApp: () => TestApp, route: Omit<ProtectedRoute, 'minLevel'>) {
  const call = (t: TestApp, key?: string) =>
    t.app.inject({
      method: route.method,
      url: route.url,
      headers: key === undefined ? {} : { 'x-api-key': key },
      payload: route.payload as object | undefined,
    });
  const label = `${route.method} ${route.url}`;

  it(`${label}: 401 for missing, malformed, guessed and rotated keys; a live key passes`, async () => {
    const t = getApp();
    const a = await makeAccount(t.app, { [route.module]: 1 });
    const { db } = t.app.loket.database;
    const first = await t.app.loket.identity.apiKeys.issue(db, a.id, route.module);
    expect([401, 403]).not.toContain((await call(t, first.apiKey)).statusCode);
    expect((await call(t)).statusCode).toBe(401);
    expect((await call(t, 'x')).statusCode).toBe(401);
    expect((await call(t, `lk_${'A'.repeat(30)}`)).statusCode).toBe(401);
    const second = await t.app.loket.identity.apiKeys.issue(db, a.id, route.module);
    await t.app.loket.identity.apiKeys.announce(second.revokedHashes);
    expect((await call(t, first.apiKey)).statusCode).toBe(401);
    expect([401, 403]).not.toContain((await call(t, second.apiKey)).statusCode);
  });
}
