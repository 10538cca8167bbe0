// Billing notifications: what billing's events leave in each user's list, marking them read, and the live socket at
// /ws/notifications (sign-in by ?token=, close codes, ping, a socket that outlives its token, and a payment on one
// instance reaching a socket on another).
import { randomBytes } from 'node:crypto';
import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../src/core/db/transaction.ts';
import { TEMPLATE_EXAMPLE, TEMPLATE_HEADERS } from '../src/modules/billing/customer-csv.ts';
import { notifyBilling } from '../src/modules/billing/notifications.ts';
import { startTestApp, startTwoInstances, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { REAL_PG } from './helpers/db.ts';
import { bearer, makeAccount, type TestAccount, tokensFor } from './helpers/identity.ts';
import { multipart } from './helpers/photobox.ts';
import { until } from './helpers/until.ts';

interface Item {
  id: number;
  type: string;
  message: string;
  data: Record<string, unknown>;
  read: boolean;
  read_at: string | null;
  created_at: string;
}
interface Message {
  id?: number;
  type: string;
  message?: string;
  data?: Record<string, unknown>;
  timestamp?: string;
  created_at?: string;
}

const clock = fakeClock();
let t: TestApp;
let port: number;
const who: Record<'admin' | 'operator' | 'viewer' | 'other' | 'outsider', TestAccount> = {} as never;
const headers: Record<keyof typeof who, Record<string, string>> = {} as never;
let brand: string;
let pkg: { id: number };

const code = () => `N${randomBytes(3).toString('hex').toUpperCase()}`;
const call = (
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  h: Record<string, string>,
  payload?: object,
  app: TestApp = t,
) => app.app.inject({ method, url, headers: h, ...(payload && { payload }) });

/** Signs everyone in again (after the clock moved past their tokens' lifetime). */
async function signIn(app: TestApp = t) {
  for (const k of Object.keys(who) as (keyof typeof who)[]) {
    headers[k] = bearer((await tokensFor(app.app, who[k])).access_token);
  }
}

async function customer(app: TestApp = t, h = headers.operator) {
  const nama = `Pelanggan ${code()}`;
  const res = await call('POST', '/api/pelanggan/', h, { nama, paket_layanan_id: pkg.id }, app);
  expect(res.statusCode, res.body).toBe(201);
  return { id: (res.json() as { id: number }).id, nama };
}

async function invoice(pelangganId: number, app: TestApp = t, h = headers.operator) {
  const res = await call(
    'POST',
    '/api/invoices/',
    h,
    { pelanggan_id: pelangganId, periode: '2027-02', items: [{ deskripsi: 'Internet', jumlah: 1, harga: 250_000 }] },
    app,
  );
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: number; nomor_invoice: string };
}

const list = async (h: Record<string, string>, query = '') => {
  const res = await call('GET', `/api/notifications/${query}`, h);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { data: Item[]; total_count: number; unread_count: number; skip: number; limit: number };
};

/** A socket to `/ws/notifications` with what it received and how it closed. */
function socket(query: string, to = port) {
  const ws = new WebSocket(`ws://127.0.0.1:${to}/ws/notifications${query}`);
  const messages: Message[] = [];
  ws.addEventListener('message', (e) => messages.push(JSON.parse(String(e.data)) as Message));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason })),
  );
  return {
    ws,
    messages,
    closed,
    next: (test: (m: Message) => boolean, what: string) =>
      until(() => messages.find(test), { what, timeoutMs: 15_000 }),
    /** Resolves once the server has signed the socket in (its listener is in place). */
    ready: () => until(() => messages.find((m) => m.type === 'connection_established'), { what: 'connected' }),
  };
}
/**
 * A WebSocket client over a bare TCP connection that never answers the server's pings: it records the opcodes of
 * the frames it receives (the server's frames are not masked) and when the server drops the connection.
 */
function silentSocket(token: string) {
  const sock = connect(port, '127.0.0.1');
  const key = randomBytes(16).toString('base64');
  sock.write(
    `GET /ws/notifications?token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const opcodes: number[] = [];
  let status = '';
  let buf = Buffer.alloc(0);
  sock.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    if (!status) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      status = buf.subarray(0, buf.indexOf('\r\n')).toString();
      buf = buf.subarray(end + 4);
    }
    for (;;) {
      if (buf.length < 2) return;
      let len = (buf[1] ?? 0) & 0x7f;
      let head = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        head = 4;
      }
      if (buf.length < head + len) return;
      opcodes.push((buf[0] ?? 0) & 0x0f);
      buf = buf.subarray(head + len);
    }
  });
  sock.on('error', () => {});
  const dropped = new Promise<void>((resolve) => sock.on('close', () => resolve()));
  return { opcodes, dropped, status: () => status };
}
const tokenOf = (h: Record<string, string>) => encodeURIComponent((h.authorization ?? '').slice('Bearer '.length));

beforeAll(async () => {
  // The server pings every second here, so that the keepalive can be watched.
  t = await startTestApp({ config: { modules: ['billing'], wsPingSeconds: 1 }, overrides: { now: clock.now } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
  who.admin = await makeAccount(t.app, { billing: 50 });
  who.operator = await makeAccount(t.app, { billing: 10 });
  who.viewer = await makeAccount(t.app, { billing: 1 });
  who.other = await makeAccount(t.app, { billing: 1 });
  who.outsider = await makeAccount(t.app, { ppob: 50 });
  await signIn();
  brand = code();
  const b = await call('POST', '/api/brands/', headers.admin, { id_brand: brand, brand: 'Uji', pajak: 11 });
  expect(b.statusCode, b.body).toBe(201);
  const p = await call('POST', '/api/paket_layanan/', headers.admin, {
    id_brand: brand,
    nama_paket: 'Internet 20Mbps',
    kecepatan: 20,
    harga: 250_000,
  });
  expect(p.statusCode, p.body).toBe(201);
  pkg = p.json();
});
afterAll(async () => t?.close());

describe('billing notifications: the list', () => {
  it('a new customer and its technical data notify every billing user, newest first, with the unread count', async () => {
    const before = await list(headers.viewer);
    const c = await customer();
    const td = await call('POST', '/api/data_teknis/', headers.operator, { pelanggan_id: c.id });
    expect(td.statusCode, td.body).toBe(201);

    const after = await list(headers.viewer);
    expect(after.unread_count).toBe(before.unread_count + 2);
    expect(after.total_count).toBe(before.total_count + 2);
    const [first, second] = after.data;
    expect(first).toMatchObject({
      type: 'new_technical_data',
      read: false,
      read_at: null,
      data: { pelanggan_id: c.id, pelanggan_nama: c.nama },
    });
    expect(second).toMatchObject({
      type: 'new_customer_for_noc',
      data: { pelanggan_id: c.id, pelanggan_nama: c.nama },
    });
    expect((first as Item).id).toBeGreaterThan((second as Item).id);
    expect(Number.isNaN(Date.parse((first as Item).created_at))).toBe(false);
    // Every billing account got its own copy; an account without billing neither has one nor may read the list.
    expect((await list(headers.admin)).data[0]).toMatchObject({ type: 'new_technical_data' });
    expect((await list(headers.other)).data[0]?.id).not.toBe(first?.id);
    expect((await call('GET', '/api/notifications/', headers.outsider)).statusCode).toBe(403);
    expect((await call('GET', '/api/notifications/', {})).statusCode).toBe(401);
  });

  it('issuing and paying an invoice in cash notify new_invoice and new_payment (invoice_number, pelanggan_nama)', async () => {
    const c = await customer();
    const inv = await invoice(c.id);
    const paid = await call('POST', `/api/invoices/${inv.id}/mark-as-paid`, headers.operator, {
      metode_pembayaran: 'Cash',
    });
    expect(paid.statusCode, paid.body).toBe(200);
    const [payment, issued] = (await list(headers.viewer, '?limit=2')).data;
    expect(issued).toMatchObject({
      type: 'new_invoice',
      data: { invoice_id: inv.id, nomor_invoice: inv.nomor_invoice, pelanggan_nama: c.nama },
    });
    expect(payment).toMatchObject({
      type: 'new_payment',
      data: {
        invoice_id: inv.id,
        nomor_invoice: inv.nomor_invoice,
        invoice_number: inv.nomor_invoice,
        pelanggan_nama: c.nama,
        metode_pembayaran: 'Cash',
      },
    });
    // Paying again is refused and notifies no one.
    const again = await call('POST', `/api/invoices/${inv.id}/mark-as-paid`, headers.operator, {});
    expect(again.statusCode).toBe(409);
    expect((await list(headers.viewer, '?limit=1')).data[0]?.id).toBe(payment?.id);
  });

  it('a Xendit payment (the simulator paying the invoice link) notifies new_payment, live too', async () => {
    const s = socket(`?token=${tokenOf(headers.viewer)}`);
    await s.ready();
    const c = await customer();
    const inv = await invoice(c.id);
    const ref = await until(
      async () =>
        (
          await t.app.loket.database.db
            .selectFrom('billing_invoices')
            .select('payment_reference')
            .where('id', '=', inv.id)
            .executeTakeFirstOrThrow()
        ).payment_reference,
      { what: 'the payment link' },
    );
    const pay = await t.app.inject({ method: 'POST', url: `/_dev/payments/${ref}/pay` });
    expect(pay.statusCode, pay.body).toBe(200);
    const item = await until(
      async () =>
        (await list(headers.viewer, '?limit=5')).data.find(
          (n) => n.type === 'new_payment' && n.data.invoice_id === inv.id,
        ),
      { what: 'the payment notification' },
    );
    expect(item).toMatchObject({
      type: 'new_payment',
      data: { invoice_number: inv.nomor_invoice, pelanggan_nama: c.nama, metode_pembayaran: 'Xendit' },
    });
    const pushed = await s.next((m) => m.type === 'new_payment' && m.data?.invoice_id === inv.id, 'the push');
    expect(pushed.id).toBe(item.id);
    s.ws.close();
  });

  it('a customer import tells the account that uploaded it (import_done), nobody else', async () => {
    const csv = `${TEMPLATE_HEADERS.join(',')}\r\n${TEMPLATE_EXAMPLE.join(',')}\r\n`;
    const form = multipart([{ name: 'file', filename: 'p.csv', contentType: 'text/csv', data: Buffer.from(csv) }]);
    const before = await list(headers.viewer);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/pelanggan/import?skip_invalid=true',
      headers: { ...headers.admin, ...form.headers },
      payload: form.payload,
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    const answer = res.json() as { created: number; total_rows: number };
    const done = (await list(headers.admin)).data.find((n) => n.type === 'import_done');
    expect(done).toMatchObject({ data: { total_rows: 1, created: answer.created } });
    const viewerNow = await list(headers.viewer);
    expect(viewerNow.data.some((n) => n.type === 'import_done')).toBe(false);
    expect(viewerNow.total_count).toBe(before.total_count);
  });

  it('a change that rolls back leaves no notification and pushes nothing', async () => {
    const s = socket(`?token=${tokenOf(headers.viewer)}`);
    await s.ready();
    const before = await list(headers.viewer);
    await expect(
      withTransaction(t.app.loket.database.db, async (trx) => {
        await notifyBilling(t.app.loket, trx, {
          type: 'buka_isolir',
          message: 'tidak jadi',
          data: { pelanggan_nama: 'X' },
        });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    // A later committed event arrives alone: the rolled-back one was never pushed before it.
    await withTransaction(t.app.loket.database.db, (trx) =>
      notifyBilling(t.app.loket, trx, {
        type: 'isolir',
        message: 'Pelanggan X diisolir',
        data: { pelanggan_nama: 'X' },
      }),
    );
    await s.next((m) => m.type === 'isolir', 'the committed event');
    expect(s.messages.some((m) => m.type === 'buka_isolir')).toBe(false);
    expect((await list(headers.viewer)).total_count).toBe(before.total_count + 1);
    s.ws.close();
  });

  it('marking read: one (PATCH and the POST alias), the unread view, all at once; paging', async () => {
    await customer();
    await customer();
    const page = await list(headers.viewer, '?skip=1&limit=2');
    expect(page).toMatchObject({ skip: 1, limit: 2 });
    expect(page.data).toHaveLength(2);
    const all = await list(headers.viewer, '?limit=500'); // clamped, not refused
    expect(all.limit).toBe(100);
    expect(page.data.map((n) => n.id)).toEqual(all.data.slice(1, 3).map((n) => n.id));

    const [a, b] = all.data as [Item, Item];
    const patched = await call('PATCH', `/api/notifications/${a.id}/read`, headers.viewer);
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ id: a.id, read: true });
    expect(patched.json().read_at).toBeTruthy();
    const posted = await call('POST', `/api/notifications/${b.id}/mark-as-read`, headers.viewer);
    expect(posted.json()).toMatchObject({ id: b.id, read: true });

    const unread = (await call('GET', '/api/notifications/unread', headers.viewer)).json() as {
      count: number;
      notifications: Item[];
    };
    expect(unread.count).toBe(all.unread_count - 2);
    expect(unread.notifications.every((n) => !n.read)).toBe(true);
    expect(unread.notifications.map((n) => n.id)).not.toContain(a.id);
    expect((await list(headers.viewer, '?unread_only=true')).total_count).toBe(unread.count);

    const marked = await call('POST', '/api/notifications/mark-all-as-read', headers.viewer);
    expect(marked.json()).toMatchObject({ count: unread.count });
    expect((await list(headers.viewer)).unread_count).toBe(0);
    // Another account's rows are untouched.
    expect((await list(headers.other)).unread_count).toBeGreaterThan(0);
  });

  it("another account's notification is a 404 in billing's envelope, and stays unread", async () => {
    const mine = (await list(headers.other, '?unread_only=true')).data[0] as Item;
    for (const [method, url] of [
      ['PATCH', `/api/notifications/${mine.id}/read`],
      ['POST', `/api/notifications/${mine.id}/mark-as-read`],
    ] as const) {
      const res = await call(method, url, headers.viewer);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ detail: 'Notification not found', status: 'error', error_code: 'NOT_FOUND' });
    }
    expect((await list(headers.other)).data.find((n) => n.id === mine.id)?.read).toBe(false);
    expect((await call('PATCH', '/api/notifications/999999999/read', headers.viewer)).statusCode).toBe(404);
  });
});

describe('billing notifications: the socket', () => {
  it('delivers new_payment in the documented message format', async () => {
    const s = socket(`?token=${tokenOf(headers.viewer)}`);
    await s.ready();
    const c = await customer();
    const inv = await invoice(c.id);
    expect((await call('POST', `/api/invoices/${inv.id}/mark-as-paid`, headers.operator, {})).statusCode).toBe(200);
    const m = await s.next((x) => x.type === 'new_payment' && x.data?.invoice_id === inv.id, 'new_payment');
    expect(m).toMatchObject({
      type: 'new_payment',
      message: expect.stringContaining(inv.nomor_invoice),
      data: {
        invoice_id: inv.id,
        nomor_invoice: inv.nomor_invoice,
        invoice_number: inv.nomor_invoice,
        pelanggan_nama: c.nama,
      },
    });
    expect(Number.isNaN(Date.parse(m.timestamp ?? ''))).toBe(false);
    expect(m.created_at).toBe(m.timestamp);
    // The pushed id is the row in the list.
    expect((await list(headers.viewer)).data.map((n) => n.id)).toContain(m.id);
    // new_invoice came first.
    expect(s.messages.findIndex((x) => x.type === 'new_invoice')).toBeLessThan(s.messages.indexOf(m));
    s.ws.close();
  });

  it('answers a text ping and a JSON ping with a pong', async () => {
    const s = socket(`?token=${tokenOf(headers.viewer)}`);
    await s.ready();
    s.ws.send('ping');
    await s.next((m) => m.type === 'pong', 'pong');
    s.ws.send('{"type":"ping"}');
    await until(() => s.messages.filter((m) => m.type === 'pong').length === 2, { what: 'a second pong' });
    s.ws.send('something else'); // ignored, not a reason to close
    s.ws.send('ping');
    await until(() => s.messages.filter((m) => m.type === 'pong').length === 3, { what: 'a third pong' });
    s.ws.close();
  });

  it('closes with 4001 without a token, 4400 for a malformed one, 4401 for a forged one, 4403 without billing', async () => {
    for (const [query, code, reason] of [
      ['', 4001, /No token/],
      ['?token=', 4001, /No token/],
      ['?token=not-a-token', 4400, /Invalid token format/],
      ['?token=aaaa.bbbb.cccc', 4401, /Token signature invalid/],
      [`?token=${tokenOf(headers.outsider)}`, 4403, /Forbidden/],
    ] as const) {
      const closed = await socket(query).closed;
      expect(closed.code, query).toBe(code);
      expect(closed.reason, query).toMatch(reason);
    }
  });

  it('a revoked token closes with 4401 "Invalid token"', async () => {
    const pair = await tokensFor(t.app, who.viewer);
    await call('POST', '/api/users/logout', bearer(pair.access_token), { refresh_token: pair.refresh_token });
    const closed = await socket(`?token=${encodeURIComponent(pair.access_token)}`).closed;
    expect(closed).toMatchObject({ code: 4401, reason: expect.stringContaining('Invalid token') });
  });

  it('an open socket outlives its token; a new socket with the expired token closes with 4401 "Token expired"', async () => {
    const pair = await tokensFor(t.app, who.viewer);
    const s = socket(`?token=${encodeURIComponent(pair.access_token)}`);
    await s.ready();
    clock.advance((t.config.accessTokenTtlMinutes + 5) * 60_000);
    await signIn();
    const expired = await socket(`?token=${encodeURIComponent(pair.access_token)}`).closed;
    expect(expired).toMatchObject({ code: 4401, reason: expect.stringContaining('Token expired') });

    const c = await customer();
    await s.next((m) => m.type === 'new_customer_for_noc' && m.data?.pelanggan_id === c.id, 'an event after expiry');
    expect(s.ws.readyState).toBe(WebSocket.OPEN);
    s.ws.close();
  });

  it('the server pings every WS_PING_SECONDS and drops a socket that stopped answering; one that answers stays', async () => {
    const answering = socket(`?token=${tokenOf(headers.viewer)}`);
    await answering.ready();
    const silent = silentSocket(tokenOf(headers.viewer));
    await until(() => silent.opcodes.includes(0x9), { what: 'a ping from the server' });
    expect(silent.status()).toContain('101');
    await silent.dropped;
    expect(answering.ws.readyState).toBe(WebSocket.OPEN);
    answering.ws.send('ping');
    await answering.next((m) => m.type === 'pong', 'a pong after the silent one was dropped');
    answering.ws.close();
  });

  it('an event for hundreds of accounts reaches every open socket (the push is sent in slices)', async () => {
    const { db } = t.app.loket.database;
    const tag = randomBytes(4).toString('hex');
    const ids = await db
      .insertInto('accounts')
      .values(
        Array.from({ length: 450 }, (_, i) => ({
          name: `Teknisi ${tag} ${i}`,
          username: `teknisi_${tag}_${i}`,
          status: 'active' as const,
        })),
      )
      .returning('id')
      .execute();
    await db
      .insertInto('memberships')
      .values(ids.map((r) => ({ account_id: r.id, module: 'billing', level: 1 })))
      .execute();
    const last = await makeAccount(t.app, { billing: 1 });
    const first = socket(`?token=${tokenOf(headers.viewer)}`);
    const late = socket(`?token=${encodeURIComponent((await tokensFor(t.app, last)).access_token)}`);
    await first.ready();
    await late.ready();
    const reached = await withTransaction(db, (trx) =>
      notifyBilling(t.app.loket, trx, { type: 'router_offline', message: 'Router mati', data: { router: tag } }),
    );
    expect(reached).toBeGreaterThan(450);
    for (const s of [first, late]) {
      await s.next((m) => m.type === 'router_offline' && m.data?.router === tag, 'the event on every socket');
      s.ws.close();
    }
  });

  it('plain HTTP on the socket path is a 404 in billing envelope', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/ws/notifications' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ status: 'error', error_code: 'NOT_FOUND' });
  });
});

describe.skipIf(!REAL_PG)('billing notifications on two instances (needs PostgreSQL: DATABASE_URL)', () => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it('a payment on instance A reaches a socket on instance B', async () => {
    const { a, b } = await startTwoInstances({ config: { modules: ['billing'] } }, closers);
    await b.app.listen({ port: 0, host: '127.0.0.1' });
    const admin = bearer((await tokensFor(a.app, await makeAccount(a.app, { billing: 50 }))).access_token);
    const viewer = await tokensFor(b.app, await makeAccount(a.app, { billing: 1 }));
    const brandB = code();
    expect((await call('POST', '/api/brands/', admin, { id_brand: brandB, brand: 'Dua' }, a)).statusCode).toBe(201);
    const p = await call(
      'POST',
      '/api/paket_layanan/',
      admin,
      { id_brand: brandB, nama_paket: 'Internet 10Mbps', kecepatan: 10, harga: 150_000 },
      a,
    );
    const nama = `Pelanggan ${code()}`;
    const c = await call('POST', '/api/pelanggan/', admin, { nama, paket_layanan_id: p.json().id }, a);
    expect(c.statusCode, c.body).toBe(201);

    const s = socket(`?token=${encodeURIComponent(viewer.access_token)}`, (b.app.server.address() as AddressInfo).port);
    await s.ready();
    const inv = await invoice(c.json().id, a, admin);
    expect((await call('POST', `/api/invoices/${inv.id}/mark-as-paid`, admin, {}, a)).statusCode).toBe(200);
    const m = await s.next((x) => x.type === 'new_payment', 'the payment made on instance A');
    expect(m.data).toMatchObject({ invoice_number: inv.nomor_invoice, pelanggan_nama: nama });
    s.ws.close();
  });
});
