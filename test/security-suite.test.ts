// The shared security suite run against the core's own protected routes (and a guard probe), so the suite itself
// is proven before modules rely on it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessions } from '../src/core/identity/sessions.ts';
import { guardModule } from './fixtures/guard-module.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { makeAccount } from './helpers/identity.ts';
import { apiKeySecuritySuite, bearerSecuritySuite } from './helpers/security.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ overrides: { extraModules: [guardModule] } });
});
afterAll(async () => t?.close());

describe('security suite', () => {
  bearerSecuritySuite(() => t, { method: 'GET', url: '/api/admin/accounts', module: 'platform', minLevel: 100 });
  bearerSecuritySuite(() => t, { method: 'GET', url: '/api/activity-logs', module: 'platform', minLevel: 100 });
  bearerSecuritySuite(() => t, {
    method: 'GET',
    url: '/api/probe-guard/photobox-admin',
    module: 'photobox',
    minLevel: 50,
  });
  bearerSecuritySuite(() => t, {
    method: 'GET',
    url: '/api/probe-guard/photobox-read',
    module: 'photobox',
    minLevel: 1,
  });
  apiKeySecuritySuite(() => t, { method: 'GET', url: '/api/probe-guard/ppob-key', module: 'ppob' });
});

describe('signing key rotation', () => {
  it('tokens signed with LOKET_PREVIOUS_SECRET stay valid after the secret changes; without it they do not', async () => {
    const { db } = t.app.loket.database;
    const { bus, now } = t.app.loket;
    const ttl = { accessTokenTtlMinutes: 60, refreshTokenTtlDays: 7 };
    const oldSecret = 'the-secret-before-rotation-0000000000000000';
    const newSecret = 'the-secret-after-rotation-11111111111111111';
    const before = createSessions({ config: { ...ttl, secret: oldSecret, previousSecret: undefined }, db, bus, now });
    const a = await makeAccount(t.app);
    const token = await before.issueAccess(a.id, randomUUID(), 0);
    const during = createSessions({ config: { ...ttl, secret: newSecret, previousSecret: oldSecret }, db, bus, now });
    await expect(during.verifyAccess(token)).resolves.toMatchObject({ accountId: a.id });
    const after = createSessions({ config: { ...ttl, secret: newSecret, previousSecret: undefined }, db, bus, now });
    await expect(after.verifyAccess(token)).rejects.toMatchObject({ code: 'AUTHENTICATION_ERROR' });
    // New tokens are signed with the new secret only.
    const fresh = await during.issueAccess(a.id, randomUUID(), 0);
    await expect(after.verifyAccess(fresh)).resolves.toMatchObject({ accountId: a.id });
    await expect(before.verifyAccess(fresh)).rejects.toMatchObject({ code: 'AUTHENTICATION_ERROR' });
  });
});
