// Billing's routers (mikrotik_servers) against a fake RouterOS over real TCP: CRUD with its access levels and the
// password never shown, the connection test in both spellings (a refused and a slow router give a clear error),
// the health check notifying router_offline once per outage, syncing a customer's secret, and reconcile repairing
// three kinds of drift.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRouterConnections } from '../src/modules/billing/providers/routeros/index.ts';
import { type FakeRouter, startFakeRouter } from './fakes/routeros.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { freePort } from './helpers/net.ts';
import { until } from './helpers/until.ts';

const PASSWORD = `router-${randomBytes(6).toString('hex')}`;
const PPPOE = `pppoe-${randomBytes(6).toString('hex')}`;

let t: TestApp;
let fake: FakeRouter;
let admin: Record<string, string>;
let adminId: number;
let operator: Record<string, string>;
let viewer: Record<string, string>;
let pkg: number;

const code = () => `T${randomBytes(3).toString('hex').toUpperCase()}`;
const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: object, payload?: object) =>
  t.app.inject({ method, url, headers: headers as Record<string, string>, payload });

async function addRouter(port: number, extra: object = {}) {
  const res = await call('POST', '/api/mikrotik_servers/', admin, {
    name: `Router ${code()}`,
    host_ip: '127.0.0.1',
    port,
    username: 'admin',
    password: PASSWORD,
    ...extra,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: number; name: string };
}

async function customerOn(routerId: number, ip: string) {
  const c = await call('POST', '/api/pelanggan/', operator, { nama: `Pelanggan ${code()}`, paket_layanan_id: pkg });
  expect(c.statusCode, c.body).toBe(201);
  const id = (c.json() as { id: number }).id;
  const name = `c-${code().toLowerCase()}`;
  const td = await call('POST', '/api/data_teknis/', operator, {
    pelanggan_id: id,
    mikrotik_server_id: routerId,
    ip_pelanggan: ip,
    id_pelanggan: name,
    password_pppoe: PPPOE,
  });
  expect(td.statusCode, td.body).toBe(201);
  return { id, name };
}

beforeAll(async () => {
  fake = await startFakeRouter({ password: PASSWORD });
  t = await startTestApp({ config: { modules: ['billing'] } });
  const a = await makeAccount(t.app, { billing: 50 });
  adminId = a.id;
  admin = bearer((await tokensFor(t.app, a)).access_token);
  operator = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 10 }))).access_token);
  viewer = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 1 }))).access_token);
  const brand = code();
  expect((await call('POST', '/api/brands/', admin, { id_brand: brand, brand: 'Uji' })).statusCode).toBe(201);
  const p = await call('POST', '/api/paket_layanan/', admin, {
    id_brand: brand,
    nama_paket: 'Internet 10Mbps',
    kecepatan: 10,
    harga: 150_000,
    profile_pppoe: 'paket-10M',
  });
  pkg = (p.json() as { id: number }).id;
});
afterAll(async () => {
  await t?.close();
  closeRouterConnections();
  await fake?.close();
});

describe('routers (mikrotik_servers)', () => {
  it('CRUD for billing admins: the password is sealed at rest, never returned, kept when left blank', async () => {
    const r = await addRouter(fake.port);
    const created = await call('GET', `/api/mikrotik_servers/${r.id}`, admin);
    expect(created.statusCode).toBe(200);
    expect(created.json()).toMatchObject({ name: r.name, host_ip: '127.0.0.1', port: fake.port, is_active: true });
    expect(created.body).not.toContain(PASSWORD);
    expect(created.json()).not.toHaveProperty('password');
    expect(created.json()).not.toHaveProperty('password_enc');
    const stored = await t.app.loket.database.db
      .selectFrom('billing_routers')
      .select('password_enc')
      .where('id', '=', r.id)
      .executeTakeFirstOrThrow();
    expect(stored.password_enc).toMatch(/^v1\./);
    expect(stored.password_enc).not.toContain(PASSWORD);

    const list = await call('GET', '/api/mikrotik_servers/', admin);
    expect(list.statusCode).toBe(200);
    expect(Array.isArray(list.json())).toBe(true);
    expect(Number(list.headers['x-total-count'])).toBeGreaterThanOrEqual(1);
    expect(list.body).not.toContain(PASSWORD);

    // The frontend blanks the password on edit: the old one stays, and the router still answers with it.
    const patched = await call('PATCH', `/api/mikrotik_servers/${r.id}`, admin, {
      name: `${r.name} baru`,
      password: '',
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().name).toBe(`${r.name} baru`);
    expect((await call('POST', `/api/mikrotik_servers/${r.id}/test`, admin)).json()).toMatchObject({ ok: true });

    expect((await call('DELETE', `/api/mikrotik_servers/${r.id}`, admin)).statusCode).toBe(204);
    const gone = await call('GET', `/api/mikrotik_servers/${r.id}`, admin);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ status: 'error', detail: 'Router not found' });
  });

  it('refuses strangers (401), lower levels (403), unknown ids (404) and bad input (422), changing nothing', async () => {
    const r = await addRouter(fake.port);
    expect((await call('GET', '/api/mikrotik_servers/', {})).statusCode).toBe(401);
    expect((await call('GET', '/api/mikrotik_servers/', viewer)).statusCode).toBe(403);
    expect((await call('POST', '/api/mikrotik_servers/', operator, { name: 'x' })).statusCode).toBe(403);
    expect((await call('DELETE', `/api/mikrotik_servers/${r.id}`, operator)).statusCode).toBe(403);
    expect((await call('POST', `/api/mikrotik_servers/${r.id}/test`, viewer)).statusCode).toBe(403);
    expect((await call('GET', '/api/mikrotik_servers/999999', admin)).statusCode).toBe(404);
    expect((await call('POST', '/api/mikrotik_servers/999999/test_connection', admin)).statusCode).toBe(404);
    const before = (await call('GET', '/api/mikrotik_servers/', admin)).headers['x-total-count'];
    for (const body of [
      { name: 'A', host_ip: '127.0.0.1', username: 'admin' }, // no password
      { name: ' ', host_ip: '127.0.0.1', username: 'admin', password: 'x' },
      { name: 'B', host_ip: '127.0.0.1', username: 'admin', password: 'x', port: 70_000 },
      { name: 'C', host_ip: '127.0.0.1', username: 'admin', password: 'x', transport: 'ssh' },
    ]) {
      const res = await call('POST', '/api/mikrotik_servers/', admin, body);
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json()).toMatchObject({ error_code: 'VALIDATION_ERROR' });
    }
    expect((await call('PATCH', `/api/mikrotik_servers/${r.id}`, admin, { port: 0 })).statusCode).toBe(422);
    expect((await call('GET', '/api/mikrotik_servers/', admin)).headers['x-total-count']).toBe(before);
  });

  it('tests the connection: identity, version and latency, in both spellings', async () => {
    const r = await addRouter(fake.port);
    const test = await call('POST', `/api/mikrotik_servers/${r.id}/test`, admin);
    expect(test.statusCode, test.body).toBe(200);
    expect(test.json()).toMatchObject({ ok: true, identity: fake.engine.identity, version: fake.engine.version });
    expect(test.json().latency_ms).toBeGreaterThanOrEqual(0);
    const old = await call('POST', `/api/mikrotik_servers/${r.id}/test_connection`, admin);
    expect(old.statusCode, old.body).toBe(200);
    expect(old.json()).toMatchObject({
      test_result: { status: 'success', data: { ros_version: fake.engine.version } },
      updated_server: { id: r.id, last_connection_status: 'success', ros_version: fake.engine.version },
    });
    expect(old.body).not.toContain(PASSWORD);
  });

  it('a refused router and a wrong password give a clear error (the original answers 400 with its body)', async () => {
    const closed = await addRouter(await freePort());
    const test = await call('POST', `/api/mikrotik_servers/${closed.id}/test`, admin);
    expect(test.statusCode).toBe(200);
    expect(test.json()).toMatchObject({ ok: false, kind: 'unreachable', error: expect.stringMatching(/unreachable/i) });
    const old = await call('POST', `/api/mikrotik_servers/${closed.id}/test_connection`, admin);
    expect(old.statusCode).toBe(400);
    expect(old.json()).toMatchObject({
      status: 'error',
      test_result: { status: 'failure', message: expect.stringMatching(/unreachable/i) },
      updated_server: { id: closed.id, last_connection_status: 'failure' },
    });
    expect(old.body).not.toContain(PASSWORD);

    const wrong = await addRouter(fake.port, { password: 'not-the-password' });
    const auth = await call('POST', `/api/mikrotik_servers/${wrong.id}/test`, admin);
    expect(auth.json()).toMatchObject({ ok: false, kind: 'auth', error: expect.stringMatching(/login refused/i) });
  });

  it('a slow router times out with a clear error', { timeout: 30_000 }, async () => {
    const slow = await startFakeRouter({ password: PASSWORD, delayMs: 7_000 });
    try {
      const r = await addRouter(slow.port);
      const res = await call('POST', `/api/mikrotik_servers/${r.id}/test`, admin);
      expect(res.json()).toMatchObject({ ok: false, error: expect.stringMatching(/in time/i) });
      expect(['timeout', 'unreachable']).toContain(res.json().kind);
    } finally {
      closeRouterConnections();
      await slow.close();
    }
  });

  it('health: each router online or offline; a router going offline notifies router_offline once', async () => {
    const down = await startFakeRouter({ password: PASSWORD });
    const r = await addRouter(down.port);
    let health = await call('GET', '/api/mikrotik_servers/health?refresh=true', viewer);
    expect(health.statusCode, health.body).toBe(200);
    expect(health.json().servers.find((s: { id: number }) => s.id === r.id)).toMatchObject({
      status: 'online',
      error: null,
      latency_ms: expect.any(Number),
      last_check: expect.any(String),
    });
    closeRouterConnections(String(r.id));
    await down.close();
    const offlineNotices = async () =>
      (
        await t.app.loket.database.db
          .selectFrom('notifications')
          .select('data')
          .where('account_id', '=', adminId)
          .where('type', '=', 'router_offline')
          .execute()
      ).filter((n) => (n.data as { mikrotik_server_id?: number }).mikrotik_server_id === r.id).length;
    for (let i = 0; i < 3; i++) await call('GET', '/api/mikrotik_servers/health?refresh=true', viewer);
    health = await call('GET', '/api/mikrotik_servers/connection-health', viewer);
    expect(health.json().servers.find((s: { id: number }) => s.id === r.id)).toMatchObject({
      status: 'offline',
      error: expect.stringMatching(/unreachable/i),
    });
    expect(health.json().offline).toBeGreaterThanOrEqual(1);
    expect(await offlineNotices()).toBe(1);
    await call('DELETE', `/api/mikrotik_servers/${r.id}`, admin);
  });

  it("sync writes the customer's secret: name, password, the package's profile, remote-address", async () => {
    const r = await addRouter(fake.port);
    const c = await customerOn(r.id, '10.20.0.2');
    const res = await call('POST', `/api/mikrotik_servers/${r.id}/sync/${c.id}`, operator);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'success',
      name: c.name,
      profile: 'paket-10M',
      remote_address: '10.20.0.2',
    });
    const secret = fake.engine.secret(c.name);
    expect(secret).toMatchObject({ profile: 'paket-10M', 'remote-address': '10.20.0.2', password: PPPOE });
    expect(res.body).not.toContain(PPPOE);
    const secrets = await call('GET', `/api/mikrotik_servers/${r.id}/secrets`, admin);
    expect(secrets.json()).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: c.name, profile: 'paket-10M' })]),
    );
    expect(secrets.body).not.toContain(PPPOE);
    // Another router, or a customer that does not exist: refused, nothing written.
    expect((await call('POST', `/api/mikrotik_servers/${r.id}/sync/999999`, operator)).statusCode).toBe(404);
    expect((await call('POST', `/api/mikrotik_servers/999999/sync/${c.id}`, operator)).statusCode).toBe(404);
    expect((await call('POST', `/api/mikrotik_servers/${r.id}/sync/${c.id}`, viewer)).statusCode).toBe(403);
  });

  it('a new customer reaches the router by its provisioning job; reconcile repairs three kinds of drift', async () => {
    const own = await startFakeRouter({ password: PASSWORD }); // a router of its own, for a clean count
    const { engine } = own;
    const r = await addRouter(own.port);
    const cs = [
      await customerOn(r.id, '10.30.0.2'),
      await customerOn(r.id, '10.30.0.3'),
      await customerOn(r.id, '10.30.0.4'),
    ];
    await until(() => cs.every((c) => engine.secret(c.name)), { what: 'the provisioning jobs' });
    const [a, b, c] = cs as [(typeof cs)[0], (typeof cs)[0], (typeof cs)[0]];

    let report = (await call('GET', `/api/mikrotik_servers/${r.id}/reconcile`, admin)).json();
    expect(report).toMatchObject({ checked: 3, missing: [], wrong_profile: [], wrong_address: [], unknown: [] });

    // Drift made on the router behind billing's back (Winbox): one secret removed, a profile and an address changed,
    // and a secret billing does not know.
    engine.exec('/ppp/secret/remove', { '.id': engine.secret(a.name)?.id ?? '' });
    engine.exec('/ppp/secret/set', { '.id': engine.secret(b.name)?.id ?? '', profile: 'paket-20M' });
    engine.exec('/ppp/secret/set', { '.id': engine.secret(c.name)?.id ?? '', 'remote-address': '10.30.9.9' });
    engine.exec('/ppp/secret/add', { name: 'admin-own', password: 'x', profile: 'default' });

    report = (await call('GET', `/api/mikrotik_servers/${r.id}/reconcile`, admin)).json();
    expect(report).toMatchObject({
      repaired: false,
      missing: [{ pelanggan_id: a.id, name: a.name }],
      wrong_profile: [{ pelanggan_id: b.id, on_router: 'paket-20M', expected: 'paket-10M' }],
      wrong_address: [{ pelanggan_id: c.id, on_router: '10.30.9.9', expected: '10.30.0.4' }],
      unknown: [{ name: 'admin-own' }],
    });
    expect(engine.secret(a.name)).toBeUndefined(); // a report changes nothing

    const fixed = await call('POST', `/api/mikrotik_servers/${r.id}/reconcile`, admin);
    expect(fixed.statusCode, fixed.body).toBe(200);
    expect(fixed.json()).toMatchObject({ repaired: true, missing: [{ name: a.name }] });
    expect(engine.secret(a.name)).toMatchObject({
      profile: 'paket-10M',
      'remote-address': '10.30.0.2',
      password: PPPOE,
    });
    expect(engine.secret(b.name)?.profile).toBe('paket-10M');
    expect(engine.secret(c.name)?.['remote-address']).toBe('10.30.0.4');
    report = (await call('GET', `/api/mikrotik_servers/${r.id}/reconcile`, admin)).json();
    expect(report).toMatchObject({
      missing: [],
      wrong_profile: [],
      wrong_address: [],
      unknown: [{ name: 'admin-own' }],
    });
    expect((await call('POST', `/api/mikrotik_servers/${r.id}/reconcile`, operator)).statusCode).toBe(403);
    closeRouterConnections(String(r.id));
    await own.close();
  });
});
