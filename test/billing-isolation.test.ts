// The isolation engine end to end on a clock the test moves, against a fake RouterOS over TCP: due → Jatuh Tempo →
// the brand's grace days → isolated on the router (isolation profile, session ended) → paid by the Xendit webhook →
// restored within seconds; a promise to pay postponing it; isolation by hand; a router down during an isolation
// getting it when it returns. Xendit's callback settles and restores right after its intake commits, not when a
// worker next polls its job; a repeated, wrong-amount or racing payment still settles once.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../src/core/db/transaction.ts';
import { audit } from '../src/core/ledger/ledger.ts';
import { closeRouterConnections } from '../src/modules/billing/providers/routeros/index.ts';
import { setSimulatorOnline, simulatorEngine } from '../src/modules/billing/providers/routeros/simulator.ts';
import { paymentCompleted } from '../src/modules/billing/use-cases/invoices.ts';
import { type FakeRouter, startFakeRest, startFakeRouter } from './fakes/routeros.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { quietPeriod, until } from './helpers/until.ts';

const PASSWORD = `router-${randomBytes(6).toString('hex')}`;
const clock = fakeClock();
/** Moves the clock to `iso` (the app's time keeps running from there), with tokens issued at that time. */
async function at(iso: string) {
  clock.advance(Date.parse(iso) - clock.now().getTime());
  if (!t) return;
  admin = bearer((await tokensFor(t.app, accounts.admin)).access_token);
  operator = bearer((await tokensFor(t.app, accounts.operator)).access_token);
  viewer = bearer((await tokensFor(t.app, accounts.viewer)).access_token);
}

let t: TestApp;
let accounts: Record<'admin' | 'operator' | 'viewer', { email: string; password: string }>;
let fake: FakeRouter;
let admin: Record<string, string>;
let adminId: number;
let operator: Record<string, string>;
let viewer: Record<string, string>;
let routerId: number;
let pkg: number;

const code = () => `I${randomBytes(3).toString('hex').toUpperCase()}`;
const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: object, payload?: object) =>
  t.app.inject({ method, url, headers: headers as Record<string, string>, payload });

async function customerOn(router: number, ip: string) {
  const c = await call('POST', '/api/pelanggan/', operator, { nama: `Pelanggan ${code()}`, paket_layanan_id: pkg });
  expect(c.statusCode, c.body).toBe(201);
  const id = (c.json() as { id: number }).id;
  const name = `c-${code().toLowerCase()}`;
  const td = await call('POST', '/api/data_teknis/', operator, {
    pelanggan_id: id,
    mikrotik_server_id: router,
    ip_pelanggan: ip,
    id_pelanggan: name,
    password_pppoe: `pw-${code()}`,
  });
  expect(td.statusCode, td.body).toBe(201);
  return { id, name };
}

async function invoiceFor(pelangganId: number, due: string) {
  const res = await call('POST', '/api/invoices/', operator, {
    pelanggan_id: pelangganId,
    periode: due.slice(0, 7),
    tanggal_invoice: `${due.slice(0, 7)}-01`,
    tanggal_jatuh_tempo: due,
    items: [{ deskripsi: 'Internet 10Mbps', jumlah: 1, harga: 150_000 }],
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: number; nomor_invoice: string };
}

const statusOf = async (id: number) => (await call('GET', `/api/pelanggan/${id}`, viewer)).json().status as string;
const invoiceStatus = async (id: number) => (await call('GET', `/api/invoices/${id}`, viewer)).json().status_invoice;
const sweep = async () => {
  const res = await call('POST', '/api/pelanggan/isolir/run', admin);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { overdue: number; isolated: number; pelanggan_ids: number[] };
};
const notices = async (type: string, pelangganId: number) =>
  (
    await t.app.loket.database.db
      .selectFrom('notifications')
      .select('data')
      .where('account_id', '=', adminId)
      .where('type', '=', type)
      .execute()
  ).filter((n) => (n.data as { pelanggan_id?: number }).pelanggan_id === pelangganId).length;

beforeAll(async () => {
  await at('2027-03-01T03:00:00Z');
  fake = await startFakeRouter({ password: PASSWORD });
  t = await startTestApp({ config: { modules: ['billing'] }, overrides: { now: clock.now } });
  const a = await makeAccount(t.app, { billing: 50 });
  adminId = a.id;
  accounts = {
    admin: a,
    operator: await makeAccount(t.app, { billing: 10 }),
    viewer: await makeAccount(t.app, { billing: 1 }),
  };
  await at('2027-03-01T03:00:00Z');
  const brand = code();
  const b = await call('POST', '/api/brands/', admin, { id_brand: brand, brand: 'Uji', due_day: 10, grace_days: 5 });
  expect(b.statusCode, b.body).toBe(201);
  const p = await call('POST', '/api/paket_layanan/', admin, {
    id_brand: brand,
    nama_paket: 'Internet 10Mbps',
    kecepatan: 10,
    harga: 150_000,
    profile_pppoe: 'paket-10M',
  });
  pkg = (p.json() as { id: number }).id;
  const r = await call('POST', '/api/mikrotik_servers/', admin, {
    name: 'POP Utama',
    host_ip: '127.0.0.1',
    port: fake.port,
    username: 'admin',
    password: PASSWORD,
  });
  expect(r.statusCode, r.body).toBe(201);
  routerId = (r.json() as { id: number }).id;
});
afterAll(async () => {
  await t?.close();
  closeRouterConnections();
  await fake?.close();
});

describe('isolation', () => {
  it('due → Jatuh Tempo → after the grace days isolated on the router → paid by Xendit → restored within seconds', async () => {
    await at('2027-03-01T03:00:00Z');
    const c = await customerOn(routerId, '10.40.0.2');
    const { engine } = fake;
    await until(() => engine.secret(c.name)?.profile === 'paket-10M', { what: 'the secret on the router' });
    expect(engine.dial(c.name)).toBe(true);
    const inv = await invoiceFor(c.id, '2027-03-10');

    await at('2027-03-11T03:00:00Z'); // the day after the due date (10:00 WIB)
    let run = await sweep();
    expect(await invoiceStatus(inv.id)).toBe('Jatuh Tempo');
    expect(run.pelanggan_ids).not.toContain(c.id);
    expect(await statusOf(c.id)).toBe('Aktif');

    await at('2027-03-15T03:00:00Z'); // the fifth grace day: not yet
    run = await sweep();
    expect(run.pelanggan_ids).not.toContain(c.id);

    await at('2027-03-16T03:00:00Z'); // grace over
    run = await sweep();
    expect(run.pelanggan_ids).toContain(c.id);
    expect(await statusOf(c.id)).toBe('Isolir');
    await until(() => engine.secret(c.name)?.profile === 'ISOLIR', { what: 'the isolation profile on the router' });
    await until(() => engine.sessionProfile(c.name) === null, { what: 'the session ended' });
    expect(await notices('isolir', c.id)).toBe(1);
    expect((await sweep()).pelanggan_ids).not.toContain(c.id); // once
    engine.dial(c.name); // the ONT redials, now on the isolation profile
    expect(engine.sessionProfile(c.name)).toBe('ISOLIR');

    // Paid through Xendit (the simulator pays the invoice's link; the webhook settles it).
    await until(async () => (await call('GET', `/api/invoices/${inv.id}`, viewer)).json().payment_link, {
      what: 'the payment link',
    });
    const ref = await t.app.loket.database.db
      .selectFrom('billing_invoices')
      .select('payment_reference')
      .where('id', '=', inv.id)
      .executeTakeFirstOrThrow();
    const started = Date.now();
    const paid = await t.app.inject({ method: 'POST', url: `/_dev/payments/${ref.payment_reference}/pay` });
    expect(paid.statusCode, paid.body).toBe(200);
    await until(() => engine.secret(c.name)?.profile === 'paket-10M', { what: 'the restore', intervalMs: 10 });
    const restoreMs = Date.now() - started;
    expect(restoreMs).toBeLessThan(2_000);
    await until(() => engine.sessionProfile(c.name) === null, { what: 'the isolated session ended' });
    expect(await invoiceStatus(inv.id)).toBe('Lunas');
    expect(await statusOf(c.id)).toBe('Aktif');
    expect(await notices('buka_isolir', c.id)).toBe(1);
    expect((await sweep()).pelanggan_ids).not.toContain(c.id);
  });

  it('a cash payment restores too; one paid invoice of two overdue restores nothing', async () => {
    await at('2027-03-01T03:00:00Z');
    const c = await customerOn(routerId, '10.40.0.3');
    const first = await invoiceFor(c.id, '2027-01-10');
    const second = await invoiceFor(c.id, '2027-02-10');
    await at('2027-03-16T03:00:00Z');
    expect((await sweep()).pelanggan_ids).toContain(c.id);
    await until(() => fake.engine.secret(c.name)?.profile === 'ISOLIR', { what: 'isolation' });
    const pay = (id: number) =>
      call('POST', `/api/invoices/${id}/mark-as-paid`, operator, { metode_pembayaran: 'Tunai' });
    expect((await pay(first.id)).statusCode).toBe(200);
    expect(await statusOf(c.id)).toBe('Isolir');
    expect((await pay(second.id)).statusCode).toBe(200);
    expect(await statusOf(c.id)).toBe('Aktif');
    await until(() => fake.engine.secret(c.name)?.profile === 'paket-10M', { what: 'the restore' });
  });

  it('never isolates a customer whose payment is settling: the sweep waits for the settlement, then skips them', async () => {
    await at('2027-03-01T03:00:00Z');
    const c = await customerOn(routerId, '10.40.0.6');
    await until(() => fake.engine.secret(c.name)?.profile === 'paket-10M', { what: 'the secret on the router' });
    const inv = await invoiceFor(c.id, '2027-03-10');
    await until(async () => (await call('GET', `/api/invoices/${inv.id}`, viewer)).json().payment_link, {
      what: 'the payment link',
    });
    const { db } = t.app.loket.database;
    const row = await db
      .selectFrom('billing_invoices')
      .select(['payment_reference', 'total_harga'])
      .where('id', '=', inv.id)
      .executeTakeFirstOrThrow();
    await at('2027-03-11T03:00:00Z'); // an earlier sweep marked it Jatuh Tempo (so marking it again locks nothing)
    await sweep();
    expect(await invoiceStatus(inv.id)).toBe('Jatuh Tempo');
    await at('2027-03-16T03:00:00Z'); // grace over: the customer is due for isolation

    // The Xendit callback's settlement (the billing handler's own code) holds the invoice, uncommitted, while the
    // sweep starts.
    let commit = () => {};
    const held = new Promise<void>((r) => {
      commit = r;
    });
    let settled = () => {};
    const inside = new Promise<void>((r) => {
      settled = r;
    });
    const settling = withTransaction(db, async (trx) => {
      const result = await paymentCompleted(
        trx,
        { reference: String(row.payment_reference), paidAt: null },
        t.app.loket.jobs,
        clock.now(),
      );
      settled();
      await held;
      return result.outcome;
    });
    await inside;
    let swept = false;
    const sweeping = sweep().then((r) => {
      swept = true;
      return r;
    });
    await quietPeriod(400, 'the sweep must wait for the settling invoice, not read it as unpaid');
    expect(swept).toBe(false);
    commit();
    expect(await settling).toBe('settled');
    const run = await sweeping;
    expect(run.pelanggan_ids).not.toContain(c.id);
    expect(await statusOf(c.id)).toBe('Aktif');
    expect(await invoiceStatus(inv.id)).toBe('Lunas');
    await quietPeriod(300, 'no isolation job may reach the router');
    expect(fake.engine.secret(c.name)?.profile).toBe('paket-10M');
    expect(await notices('isolir', c.id)).toBe(0);
    expect((await sweep()).pelanggan_ids).not.toContain(c.id);
  });

  it('a cash payment racing the Xendit callback settles once and restores once; a repeated or wrong-amount callback changes nothing', async () => {
    await at('2027-03-01T03:00:00Z');
    const c = await customerOn(routerId, '10.40.0.8');
    const inv = await invoiceFor(c.id, '2027-03-10');
    const link = await call('POST', `/api/invoices/${inv.id}/payment-link`, operator);
    expect(link.statusCode, link.body).toBe(200);
    const { db } = t.app.loket.database;
    const row = await db
      .selectFrom('billing_invoices')
      .select(['payment_reference', 'total_harga'])
      .where('id', '=', inv.id)
      .executeTakeFirstOrThrow();
    const reference = String(row.payment_reference);
    const intent = await t.app.loket.payments.find(reference);
    await at('2027-03-16T03:00:00Z');
    expect((await sweep()).pelanggan_ids).toContain(c.id);
    await until(() => fake.engine.secret(c.name)?.profile === 'ISOLIR', { what: 'isolation' });

    // Xendit's invoice callback as Xendit sends it, with the account's token.
    const callback = (amount: number, webhookId: string) =>
      t.app.inject({
        method: 'POST',
        url: '/webhooks/xendit',
        headers: {
          'content-type': 'application/json',
          'x-callback-token': t.config.xenditCallbackToken ?? '',
          'webhook-id': webhookId,
        },
        payload: {
          id: intent?.provider_id,
          external_id: reference,
          status: 'PAID',
          amount,
          paid_amount: amount,
          currency: 'IDR',
          paid_at: clock.now().toISOString(),
        },
      });
    const settledOnce = async () => {
      const journals = await db
        .selectFrom('ledger_journals')
        .select('id')
        .where('reference', '=', String(inv.id))
        .where('kind', '=', 'billing.payment')
        .execute();
      expect(journals).toHaveLength(1);
      expect(await notices('buka_isolir', c.id)).toBe(1);
      expect(await statusOf(c.id)).toBe('Aktif');
      expect(await invoiceStatus(inv.id)).toBe('Lunas');
      expect(await audit(db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
    };
    const processed = () =>
      until(
        async () =>
          !(await db
            .selectFrom('webhook_deliveries')
            .select('id')
            .where('reference', '=', reference)
            .where('outcome', '=', 'accepted')
            .where('processed_at', 'is', null)
            .executeTakeFirst()),
        { what: 'every accepted callback processed' },
      );

    // A wrong amount is refused and restores nothing.
    const wrong = await callback(Number(row.total_harga) - 1, `wh-${code()}`);
    expect(wrong.statusCode, wrong.body).toBe(422);
    expect(await statusOf(c.id)).toBe('Isolir');

    const firstId = `wh-${code()}`;
    const [cash, paid] = await Promise.all([
      call('POST', `/api/invoices/${inv.id}/mark-as-paid`, operator, { metode_pembayaran: 'Tunai' }),
      callback(Number(row.total_harga), firstId),
    ]);
    expect(paid.statusCode, paid.body).toBe(200);
    expect([200, 409]).toContain(cash.statusCode);
    await processed();
    await until(() => fake.engine.secret(c.name)?.profile === 'paket-10M', { what: 'the restore' });
    await settledOnce();

    // The same payment again (Xendit retries with a new webhook id), and once more with the old one.
    expect((await callback(Number(row.total_harga), `wh-${code()}`)).statusCode).toBe(200);
    expect((await callback(Number(row.total_harga), firstId)).json()).toMatchObject({ outcome: 'duplicate' });
    await processed();
    await settledOnce();
    expect(fake.engine.secret(c.name)?.profile).toBe('paket-10M');
  });

  it('a restore on a REST router does not queue behind a batch of isolations holding its sockets', async () => {
    // The batch's writes of the isolation profile are held by the router until released.
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let held = 0;
    let armed = false;
    const rest = await startFakeRest({
      password: PASSWORD,
      hold: (command, attributes) => {
        if (!armed || command !== '/ppp/secret/set' || attributes.profile !== 'ISOLIR') return undefined;
        held++;
        return gate;
      },
    });
    try {
      const r = await call('POST', '/api/mikrotik_servers/', admin, {
        name: 'POP REST',
        host_ip: '127.0.0.1',
        port: rest.port,
        username: 'admin',
        password: PASSWORD,
        transport: 'rest',
        use_tls: false,
      });
      expect(r.statusCode, r.body).toBe(201);
      const restId = (r.json() as { id: number }).id;
      await at('2027-03-01T03:00:00Z');
      const paying = await customerOn(restId, '10.70.0.2');
      const late: { id: number; name: string }[] = [];
      for (let i = 0; i < 10; i++) late.push(await customerOn(restId, `10.70.1.${i + 2}`));
      await until(() => [paying, ...late].every((c) => rest.engine.secret(c.name)?.profile === 'paket-10M'), {
        what: 'the secrets on the REST router',
      });
      // One customer isolated by hand before the gate is armed.
      expect((await call('POST', `/api/pelanggan/${paying.id}/isolir`, operator)).statusCode).toBe(200);
      await until(() => rest.engine.secret(paying.name)?.profile === 'ISOLIR', { what: 'isolated by hand' });
      for (const c of late) await invoiceFor(c.id, '2027-03-10');
      await at('2027-03-16T03:00:00Z');
      armed = true;
      expect((await sweep()).pelanggan_ids).toEqual(expect.arrayContaining(late.map((c) => c.id)));
      await until(() => held >= 4, { what: 'the batch holding every socket of the REST router' });

      const open = await call('POST', `/api/pelanggan/${paying.id}/buka-isolir`, operator);
      expect(open.statusCode, open.body).toBe(200);
      await until(() => rest.engine.secret(paying.name)?.profile === 'paket-10M', {
        what: 'the restore while the batch is held',
        timeoutMs: 4_000,
      });
      expect(late.some((c) => rest.engine.secret(c.name)?.profile === 'ISOLIR')).toBe(false);
      release();
      await until(() => late.every((c) => rest.engine.secret(c.name)?.profile === 'ISOLIR'), {
        what: 'the batch written once released',
      });
    } finally {
      release();
      await rest.close();
    }
  });

  it('?tanggal= runs the sweep as of another day, for level 99 only (403 below, 422 for a bad date)', async () => {
    await at('2027-03-16T03:00:00Z');
    const c = await customerOn(routerId, '10.40.0.7');
    await until(() => fake.engine.secret(c.name)?.profile === 'paket-10M', { what: 'the secret on the router' });
    const inv = await invoiceFor(c.id, '2027-04-10');
    const superadmin = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 99 }))).access_token);
    const runAs = (tanggal: string, who: Record<string, string>) =>
      call('POST', `/api/pelanggan/isolir/run?tanggal=${tanggal}`, who);
    const refused = await runAs('2027-04-16', admin);
    expect(refused.statusCode, refused.body).toBe(403);
    for (const bad of ['2027-02-30', '16-04-2027', 'besok']) {
      const res = await runAs(bad, superadmin);
      expect(res.statusCode, `${bad}: ${res.body}`).toBe(422);
    }
    expect(await invoiceStatus(inv.id)).toBe('Menunggu Pembayaran');
    let run = await runAs('2027-04-11', superadmin);
    expect(run.statusCode, run.body).toBe(200);
    expect(run.json()).toMatchObject({ today: '2027-04-11' });
    expect(run.json().pelanggan_ids).not.toContain(c.id);
    expect(await invoiceStatus(inv.id)).toBe('Jatuh Tempo');
    run = await runAs('2027-04-16', superadmin);
    expect(run.json().pelanggan_ids).toContain(c.id);
    await until(() => fake.engine.secret(c.name)?.profile === 'ISOLIR', { what: 'isolated as of that day' });
  });

  it('janji-bayar: at most 14 days ahead (422 otherwise, nothing changed); it postpones isolation until its day', async () => {
    await at('2027-03-16T03:00:00Z');
    const c = await customerOn(routerId, '10.40.0.4');
    await invoiceFor(c.id, '2027-03-05');
    for (const sampai of ['2027-03-31', '2027-03-15', '16-03-2027', '2027-02-30']) {
      const res = await call('POST', `/api/pelanggan/${c.id}/janji-bayar`, operator, { sampai });
      expect(res.statusCode, `${sampai}: ${res.body}`).toBe(422);
      expect(res.json()).toMatchObject({ error_code: 'VALIDATION_ERROR' });
    }
    expect(
      (await call('POST', `/api/pelanggan/${c.id}/janji-bayar`, viewer, { sampai: '2027-03-20' })).statusCode,
    ).toBe(403);
    expect(
      (await call('POST', '/api/pelanggan/999999/janji-bayar', operator, { sampai: '2027-03-20' })).statusCode,
    ).toBe(404);
    const ok = await call('POST', `/api/pelanggan/${c.id}/janji-bayar`, operator, { sampai: '2027-03-30' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ pelanggan_id: c.id, janji_bayar_sampai: '2027-03-30', status: 'Aktif' });
    expect((await sweep()).pelanggan_ids).not.toContain(c.id);
    await at('2027-03-30T16:00:00Z'); // 23:00 WIB on the promised day: still promised
    expect((await sweep()).pelanggan_ids).not.toContain(c.id);
    await at('2027-03-31T03:00:00Z'); // the promise has run out
    expect((await sweep()).pelanggan_ids).toContain(c.id);
    await until(() => fake.engine.secret(c.name)?.profile === 'ISOLIR', { what: 'isolation after the promise' });
    // A promise made while isolated opens the customer until then.
    const again = await call('POST', `/api/pelanggan/${c.id}/janji-bayar`, operator, { sampai: '2027-04-03' });
    expect(again.json()).toMatchObject({ status: 'Aktif', dibuka: true });
    await until(() => fake.engine.secret(c.name)?.profile === 'paket-10M', { what: 'opened by the promise' });
  });

  it('isolir and buka-isolir by hand (level 10): 403 below, 404 unknown, 409 when already so', async () => {
    const c = await customerOn(routerId, '10.40.0.5');
    await until(() => fake.engine.secret(c.name), { what: 'the secret' });
    expect((await call('POST', `/api/pelanggan/${c.id}/isolir`, viewer)).statusCode).toBe(403);
    expect((await call('POST', `/api/pelanggan/${c.id}/isolir`, {})).statusCode).toBe(401);
    expect((await call('POST', '/api/pelanggan/999999/isolir', operator)).statusCode).toBe(404);
    expect((await call('POST', `/api/pelanggan/${c.id}/buka-isolir`, operator)).statusCode).toBe(409);
    const iso = await call('POST', `/api/pelanggan/${c.id}/isolir`, operator);
    expect(iso.statusCode, iso.body).toBe(200);
    expect(iso.json().status).toBe('Isolir');
    expect((await call('POST', `/api/pelanggan/${c.id}/isolir`, operator)).statusCode).toBe(409);
    await until(() => fake.engine.secret(c.name)?.profile === 'ISOLIR', { what: 'isolation by hand' });
    const open = await call('POST', `/api/pelanggan/${c.id}/buka-isolir`, operator);
    expect(open.json().status).toBe('Aktif');
    await until(() => fake.engine.secret(c.name)?.profile === 'paket-10M', { what: 'restore by hand' });
    expect((await sweep()).pelanggan_ids).not.toContain(c.id);
  });

  it('a router down during isolation gets the change when it returns (the simulator router)', async () => {
    const r = await call('POST', '/api/mikrotik_servers/', admin, {
      name: 'Simulator',
      host_ip: 'simulator',
      username: 'admin',
      password: 'simulator-pw',
    });
    expect(r.statusCode, r.body).toBe(201);
    const sim = (r.json() as { id: number }).id;
    const engine = simulatorEngine(String(sim));
    const c = await customerOn(sim, '10.50.0.2');
    await until(() => engine.secret(c.name)?.profile === 'paket-10M', { what: 'the secret on the simulator' });

    setSimulatorOnline(String(sim), false);
    try {
      await call('GET', '/api/mikrotik_servers/health?refresh=true', viewer); // seen offline
      expect((await call('POST', `/api/pelanggan/${c.id}/isolir`, operator)).statusCode).toBe(200);
      await until(
        async () =>
          (
            await t.app.loket.database.db
              .selectFrom('billing_provisioning')
              .select('last_error')
              .where('pelanggan_id', '=', c.id)
              .executeTakeFirst()
          )?.last_error,
        { what: 'a failed attempt' },
      );
      expect(engine.secret(c.name)?.profile).toBe('paket-10M');
    } finally {
      setSimulatorOnline(String(sim), true);
    }
    const health = await call('GET', '/api/mikrotik_servers/health?refresh=true', viewer);
    expect(health.json().servers.find((s: { id: number }) => s.id === sim).status).toBe('online');
    await until(() => engine.secret(c.name)?.profile === 'ISOLIR', { what: 'the change applied on return' });
  });
});

// The webhook's job is only the retry path: with workers polling once a minute, Xendit's callback still restores the
// customer at once, processed in the receiving process before its job was fetched.
describe('a Xendit callback does not wait for a job poll', () => {
  let slow: TestApp;
  afterAll(async () => {
    await slow?.close();
  });

  it('restores the router right after the intake commits, before the payments.process job is fetched', async () => {
    await at('2027-03-01T03:00:00Z');
    slow = await startTestApp({
      env: { JOB_POLL_SECONDS: '60' },
      config: { modules: ['billing'] },
      overrides: { now: clock.now },
    });
    const operatorHere = bearer((await tokensFor(slow.app, await makeAccount(slow.app, { billing: 50 }))).access_token);
    const req = (method: 'GET' | 'POST', url: string, payload?: object) =>
      slow.app.inject({ method, url, headers: operatorHere, payload });
    const brand = code();
    expect((await req('POST', '/api/brands/', { id_brand: brand, brand: 'Cepat' })).statusCode).toBe(201);
    const p = await req('POST', '/api/paket_layanan/', {
      id_brand: brand,
      nama_paket: 'Internet 20Mbps',
      kecepatan: 20,
      harga: 200_000,
      profile_pppoe: 'paket-20M',
    });
    const r = await req('POST', '/api/mikrotik_servers/', {
      name: 'POP Cepat',
      host_ip: '127.0.0.1',
      port: fake.port,
      username: 'admin',
      password: PASSWORD,
    });
    expect(r.statusCode, r.body).toBe(201);
    const customer = await req('POST', '/api/pelanggan/', {
      nama: `Pelanggan ${code()}`,
      paket_layanan_id: p.json().id,
    });
    const id = customer.json().id as number;
    const name = `c-${code().toLowerCase()}`;
    const td = await req('POST', '/api/data_teknis/', {
      pelanggan_id: id,
      mikrotik_server_id: r.json().id,
      ip_pelanggan: '10.60.0.2',
      id_pelanggan: name,
      password_pppoe: `pw-${code()}`,
    });
    expect(td.statusCode, td.body).toBe(201);
    // Written now, by hand (the technical data's own job would wait for the poll).
    expect((await req('POST', `/api/mikrotik_servers/${r.json().id}/sync/${id}`)).statusCode).toBe(200);
    const inv = await req('POST', '/api/invoices/', {
      pelanggan_id: id,
      periode: '2027-03',
      items: [{ deskripsi: 'Internet 20Mbps', jumlah: 1, harga: 200_000 }],
    });
    expect(inv.statusCode, inv.body).toBe(201);
    const link = await req('POST', `/api/invoices/${inv.json().id}/payment-link`);
    expect(link.statusCode, link.body).toBe(200);
    expect((await req('POST', `/api/pelanggan/${id}/isolir`)).statusCode).toBe(200);
    await until(() => fake.engine.secret(name)?.profile === 'ISOLIR', { what: 'isolated by hand' });

    const { db } = slow.app.loket.database;
    const { payment_reference } = await db
      .selectFrom('billing_invoices')
      .select('payment_reference')
      .where('id', '=', inv.json().id)
      .executeTakeFirstOrThrow();
    const paid = await slow.app.inject({ method: 'POST', url: `/_dev/payments/${payment_reference}/pay` });
    expect(paid.statusCode, paid.body).toBe(200);
    await until(() => fake.engine.secret(name)?.profile === 'paket-20M', { what: 'the restore', timeoutMs: 10_000 });
    expect((await req('GET', `/api/pelanggan/${id}`)).json().status).toBe('Aktif');
    const delivery = await db
      .selectFrom('webhook_deliveries')
      .select(['id', 'processed_at'])
      .where('reference', '=', String(payment_reference))
      .where('outcome', '=', 'accepted')
      .executeTakeFirstOrThrow();
    expect(delivery.processed_at).not.toBeNull();
    // Its job is still waiting for the workers' next poll (a minute away): the restore did not come from it.
    const { rows } = await sql<{ state: string }>`
      SELECT state FROM pgboss.job
       WHERE name = 'payments.process' AND (data->>'deliveryId')::int = ${delivery.id}`.execute(db);
    expect(rows.map((j) => j.state)).toEqual(['created']);
  });
});
