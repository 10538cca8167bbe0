// The FTTH billing seed document (003_47e22e4c06daf499.txt), part 2: the examples that need a router. "Mikrotik
// Endpoints" (test, sync, health), the Data Teknis model with its `mikrotik_server_id`, isolation as it reaches the
// router and the socket (CONTRACTS §4 Billing: the document has no isolation endpoint, only the `Isolir` status and
// the notifications), "Notifications Endpoints" for those events, and every message the socket sends in the
// "WebSocket Message Format". The router is the fake RouterOS of test/fakes/routeros.ts over real TCP. Compared by
// shape and by the values the examples fix (issue 21 item 3); part 1 is seed-examples-billing.test.ts.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterEngine } from '../src/modules/billing/providers/routeros/engine.ts';
import { closeRouterConnections } from '../src/modules/billing/providers/routeros/index.ts';
import { type FakeRouter, startFakeRouter } from './fakes/routeros.ts';
import type { TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import {
  expectExample,
  expectShape,
  type Res,
  type ShapeOptions,
  startSeedApp,
  timestampsWithoutOffset,
} from './helpers/seed-examples.ts';
import { until } from './helpers/until.ts';

const PASSWORD = `router-${randomBytes(6).toString('hex')}`;
const PPPOE = `pppoe-${randomBytes(6).toString('hex')}`;

let t: TestApp;
let fake: FakeRouter;
let h: Record<string, string>;
let port: number;
let routerId: number;
let customerId: number;
let secretName: string;
const wsMessages: Record<string, unknown>[] = [];
let ws: WebSocket;

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const call = (method: Method, url: string, headers: Record<string, string> = h, payload?: object) =>
  t.app.inject({ method, url, headers, ...(payload && { payload }) }) as Promise<Res>;

// "Standard Error Response Format".
const ERROR = { detail: 'Error message description', status: 'error', error_code: 'VALIDATION_ERROR' };
// "Data Teknis Model": with a router, `mikrotik_server_id` is the router's id (never null).
const DATA_TEKNIS_MODEL = {
  id: 456,
  pelanggan_id: 123,
  ip_pelanggan: '192.168.1.100',
  password_pppoe: 'encrypted_password',
  vlan: 100,
  sn_ont: 'ALCL12345678',
  port_odp: 'ODP-01/P01',
  port_olt: '1/GP1',
  status: 'Aktif',
  mikrotik_server_id: 1,
  created_at: '2024-01-15T10:00:00Z',
};
// CONTRACTS §2 and §4 Billing: the PPPoE password is write-only and reads back as null.
const DATA_TEKNIS_OPTS = { nullable: ['password_pppoe'] };
// "Pelanggan Model" (the status field is what isolation changes: CONTRACTS §4 Billing, Aktif/Isolir/Berhenti).
const PELANGGAN_MODEL = {
  id: 123,
  nama: 'John Doe',
  email: 'john@example.com',
  no_telp: '08123456789',
  id_brand: 'JAKINET',
  status: 'Aktif',
  created_at: '2024-01-15T10:00:00Z',
  updated_at: '2024-01-15T10:00:00Z',
};
// "WebSocket Message Format".
const WS_MESSAGE = {
  type: 'new_invoice',
  message: 'Invoice baru telah dibuat',
  data: { invoice_id: 789, nomor_invoice: 'INV-2024-001', pelanggan_nama: 'John Doe' },
  timestamp: '2024-01-15T10:00:00Z',
};
// The envelope of every pushed event (the example's keys; `data` carries what the event is about, CONTRACTS §4).
const WS_ENVELOPE = { type: '', message: '', data: {}, timestamp: WS_MESSAGE.timestamp };
// The document shows no bodies for the three Mikrotik endpoints; these are the shapes CONTRACTS §4 Billing settles
// (test: identity, version, latency; sync: the secret written; health: every router with its state).
const TEST_ANSWER = { ok: true, identity: '', version: '', latency_ms: 1 };
const SYNC_ANSWER = { status: 'success', action: 'created', name: '', profile: '', remote_address: '' };
const HEALTH_ANSWER = {
  total: 1,
  online: 1,
  offline: 0,
  servers: [{ id: 1, name: '', status: 'online', latency_ms: 1, last_check: '2024-01-15T10:00:00Z', error: null }],
};
const HEALTH_OPTS: ShapeOptions = {
  nullable: ['servers[].latency_ms', 'servers[].last_check'],
  nullOr: { 'servers[].error': 'string' },
};

beforeAll(async () => {
  // The demo catalogue's PPPoE profiles are `<speed>Mbps`; JAKINET isolates to `ISOLIR`.
  fake = await startFakeRouter({
    password: PASSWORD,
    engine: new RouterEngine({ identity: 'JAKINET-CORE', profiles: ['50Mbps', '20Mbps', '10Mbps', 'ISOLIR'] }),
  });
  t = await startSeedApp(['billing']);
  const account = await makeAccount(t.app, { billing: 50 });
  h = bearer((await tokensFor(t.app, account)).access_token);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as { port: number }).port;
  // The documented client: `new WebSocket('ws://…/ws/notifications?token=<access_token>')`, JSON.parse each message.
  ws = new WebSocket(`ws://127.0.0.1:${port}/ws/notifications?token=${h.authorization?.slice(7)}`);
  ws.addEventListener('message', (e) => wsMessages.push(JSON.parse(String(e.data))));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('the socket did not open')));
  });
});
afterAll(async () => {
  ws?.close();
  await t?.close();
  closeRouterConnections();
  await fake?.close();
});

const counts = (servers: { status: string }[]) => ({
  total: servers.length,
  online: servers.filter((s) => s.status === 'online').length,
  offline: servers.filter((s) => s.status === 'offline').length,
});

const eventOf = (type: string, pelangganId?: number) =>
  until(
    () =>
      wsMessages.find(
        (m) =>
          m.type === type &&
          (pelangganId === undefined || (m.data as { pelanggan_id?: number }).pelanggan_id === pelangganId),
      ),
    { what: `the ${type} message` },
  );

describe('billing seed examples, part 2: routers, isolation, notifications, the socket', () => {
  it('a router is added (CONTRACTS §4: /api/mikrotik_servers/, the password never shown)', async () => {
    const res = await call('POST', '/api/mikrotik_servers/', h, {
      name: 'JAKINET Core',
      host_ip: '127.0.0.1',
      port: fake.port,
      username: 'admin',
      password: PASSWORD,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.body).not.toContain(PASSWORD);
    routerId = res.json().id;
  });

  it('POST /api/mikrotik_servers/{server_id}/test: the connection, with the router identity and version', async () => {
    const b = expectExample(await call('POST', `/api/mikrotik_servers/${routerId}/test`), 200, TEST_ANSWER, {
      ok: true,
      identity: 'JAKINET-CORE',
      version: fake.engine.version,
    });
    expect(b.latency_ms).toBeGreaterThanOrEqual(0);
    expectExample(await call('POST', '/api/mikrotik_servers/999999/test'), 404, ERROR, { status: 'error' });
    expectExample(await call('POST', `/api/mikrotik_servers/${routerId}/test`, {}), 401, ERROR, { status: 'error' });
  });

  it('a customer with technical data on the router: the Data Teknis model carries mikrotik_server_id', async () => {
    const c = await call('POST', '/api/pelanggan/', h, {
      nama: 'John Doe',
      email: 'john.router@example.com',
      no_telp: '08123456789',
      no_ktp: '1234567890123499',
      alamat: 'Jl. Example No. 123',
      id_brand: 'JAKINET',
      layanan: 'Internet 50Mbps',
      tanggal_instalasi: '2024-01-15',
    });
    customerId = expectExample(c, 201, PELANGGAN_MODEL, { status: 'Aktif', id_brand: 'JAKINET' }).id;
    secretName = `john-${randomBytes(3).toString('hex')}`;
    const td = await call('POST', '/api/data_teknis/', h, {
      pelanggan_id: customerId,
      ip_pelanggan: '192.168.1.100',
      vlan: 100,
      sn_ont: 'ALCL12345678',
      port_odp: 'ODP-01/P01',
      port_olt: '1/GP1',
      mikrotik_server_id: routerId,
      id_pelanggan: secretName,
      password_pppoe: PPPOE,
    });
    expectExample(
      td,
      201,
      DATA_TEKNIS_MODEL,
      { pelanggan_id: customerId, mikrotik_server_id: routerId, ip_pelanggan: '192.168.1.100', password_pppoe: null },
      DATA_TEKNIS_OPTS,
    );
    expect(td.body).not.toContain(PPPOE);
    const read = await call('GET', `/api/data_teknis/pelanggan/${customerId}`);
    expectExample(read, 200, DATA_TEKNIS_MODEL, { mikrotik_server_id: routerId }, DATA_TEKNIS_OPTS);
  });

  it('POST /api/mikrotik_servers/{server_id}/sync/{pelanggan_id} creates or updates the PPPoE secret', async () => {
    const res = await call('POST', `/api/mikrotik_servers/${routerId}/sync/${customerId}`);
    const b = expectExample(res, 200, SYNC_ANSWER, {
      status: 'success',
      name: secretName,
      profile: '50Mbps',
      remote_address: '192.168.1.100',
    });
    expect(['created', 'updated']).toContain(b.action);
    expect(res.body).not.toContain(PPPOE);
    expect(fake.engine.secret(secretName)).toMatchObject({
      profile: '50Mbps',
      'remote-address': '192.168.1.100',
      password: PPPOE,
    });
    // Again: the same secret is updated, not duplicated.
    const again = await call('POST', `/api/mikrotik_servers/${routerId}/sync/${customerId}`);
    expectExample(again, 200, SYNC_ANSWER, { status: 'success', action: 'updated', name: secretName });
    expectExample(await call('POST', `/api/mikrotik_servers/${routerId}/sync/999999`), 404, ERROR, {
      status: 'error',
    });
  });

  it('GET /api/mikrotik_servers/health: the state of every router', async () => {
    const res = await call('GET', '/api/mikrotik_servers/health?refresh=true');
    const b = expectExample(res, 200, HEALTH_ANSWER, {}, HEALTH_OPTS);
    // The demo data has the in-process simulator router beside ours; the counts add up over all of them.
    expect(b.servers).toContainEqual(
      expect.objectContaining({ id: routerId, name: 'JAKINET Core', status: 'online', error: null }),
    );
    expect(b).toMatchObject(counts(b.servers));
    expect(b.offline).toBe(0);
  });

  it('isolation: the customer becomes Isolir, the router gets the isolation profile, the socket gets isolir', async () => {
    const iso = await call('POST', `/api/pelanggan/${customerId}/isolir`);
    expectExample(iso, 200, PELANGGAN_MODEL, { id: customerId, status: 'Isolir' });
    await until(() => fake.engine.secret(secretName)?.profile === 'ISOLIR', { what: 'the isolation profile' });
    const m = await eventOf('isolir', customerId);
    expectShape(m, WS_ENVELOPE);
    expect(m).toMatchObject({ data: { pelanggan_id: customerId, pelanggan_nama: 'John Doe' } });
    const read = await call('GET', `/api/pelanggan/${customerId}`);
    expectExample(read, 200, PELANGGAN_MODEL, { status: 'Isolir' });
  });

  it('restoring: Aktif again, the package profile back on the router, the socket gets buka_isolir', async () => {
    const open = await call('POST', `/api/pelanggan/${customerId}/buka-isolir`);
    expectExample(open, 200, PELANGGAN_MODEL, { id: customerId, status: 'Aktif' });
    await until(() => fake.engine.secret(secretName)?.profile === '50Mbps', { what: 'the package profile' });
    const m = await eventOf('buka_isolir', customerId);
    expectShape(m, WS_ENVELOPE);
    expect(m).toMatchObject({ data: { pelanggan_id: customerId, pelanggan_nama: 'John Doe' } });
  });

  it('an invoice on this customer: new_invoice in exactly the documented message format', async () => {
    const res = await call('POST', '/api/invoices/', h, {
      pelanggan_id: customerId,
      periode: '2024-01',
      tanggal_invoice: '2024-01-01',
      tanggal_jatuh_tempo: '2024-01-31',
      items: [{ deskripsi: 'Internet 50Mbps', jumlah: 1, harga: 500000 }],
    });
    expect(res.statusCode, res.body).toBe(201);
    const inv = res.json();
    const m = await until(
      () =>
        wsMessages.find((x) => x.type === 'new_invoice' && (x.data as { invoice_id?: number }).invoice_id === inv.id),
      { what: 'new_invoice' },
    );
    expectShape(m, WS_MESSAGE);
    expect(m).toMatchObject({
      type: 'new_invoice',
      data: { invoice_id: inv.id, nomor_invoice: inv.nomor_invoice, pelanggan_nama: 'John Doe' },
    });
  });

  it('GET /api/notifications/ lists the isolation events; PATCH /api/notifications/{id}/read marks one read', async () => {
    const res = await call('GET', '/api/notifications/');
    const NOTIFICATION = { id: 1, type: '', message: '', data: {}, read: false, created_at: WS_MESSAGE.timestamp };
    const b = expectExample(res, 200, { data: [NOTIFICATION] }, {}, { nullOr: {} });
    const types = (b.data as { type: string }[]).map((n) => n.type);
    expect(types).toEqual(expect.arrayContaining(['isolir', 'buka_isolir', 'new_invoice']));
    const n = (b.data as { id: number; type: string }[]).find((x) => x.type === 'isolir');
    if (!n) throw new Error(res.body);
    const read = await call('PATCH', `/api/notifications/${n.id}/read`);
    expect(read.statusCode, read.body).toBe(200);
    const after = (await call('GET', '/api/notifications/')).json().data.find((x: { id: number }) => x.id === n.id);
    expect(after).toMatchObject({ read: true, read_at: expect.any(String) });
    expectShape(after, { ...NOTIFICATION, read: true, read_at: WS_MESSAGE.timestamp });
  });

  it('a router that stops answering: health says offline and the socket gets router_offline', async () => {
    closeRouterConnections(String(routerId));
    await fake.close();
    const res = await call('GET', '/api/mikrotik_servers/health?refresh=true');
    const b = expectExample(res, 200, HEALTH_ANSWER, { offline: 1 }, HEALTH_OPTS);
    expect(b.servers).toContainEqual(
      expect.objectContaining({ id: routerId, status: 'offline', error: expect.stringMatching(/unreachable/i) }),
    );
    expect(b).toMatchObject(counts(b.servers));
    const m = await until(() => wsMessages.find((x) => x.type === 'router_offline'), { what: 'router_offline' });
    expectShape(m, WS_ENVELOPE);
    expect(m).toMatchObject({ data: { mikrotik_server_id: routerId } });
    const test = await call('POST', `/api/mikrotik_servers/${routerId}/test`);
    expectExample(test, 200, { ok: false, latency_ms: 1, error: '' }, { ok: false });
  });

  it('every message the socket sent is in the documented format (type, message, data, timestamp)', () => {
    const events = wsMessages.filter((m) => m.type !== 'pong');
    expect(events.length).toBeGreaterThanOrEqual(4);
    for (const m of events) expectShape(m, WS_ENVELOPE);
  });

  it('CONTRACTS §6: every timestamp in the answers and messages above is local time with its offset', () => {
    expect(timestampsWithoutOffset()).toEqual([]);
  });
});
