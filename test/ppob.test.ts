import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../src/core/db/transaction.ts';
import { type Claim, runIdempotent } from '../src/core/http/idempotency.ts';
import { audit } from '../src/core/ledger/ledger.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { apiKeySecuritySuite } from './helpers/security.ts';
import { jobsSettled, until } from './helpers/until.ts';

let t: TestApp;
let admin: Record<string, string>;
beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['ppob'], ppobSimulatorDelayMs: 100, demo: true } });
  admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { ppob: 50 }))).access_token);
});
afterAll(async () => t?.close());

interface Reseller {
  email: string;
  apiKey: string;
  privateKey: string;
  h: Record<string, string>;
}

async function register(): Promise<Reseller> {
  const email = `reseller-${randomBytes(4).toString('hex')}@example.com`;
  const reg = await t.app.inject({
    method: 'POST',
    url: '/register',
    payload: { nama: 'Rama', email, hp: '081212345678' },
  });
  expect(reg.statusCode).toBe(201);
  expect(reg.json()).toMatchObject({
    code: 201,
    status: 'success',
    message: 'Registrasi sukses. OTP telah dikirim ke email Anda.',
  });
  const box = (await t.app.inject({ method: 'GET', url: `/_dev/outbox?to=${encodeURIComponent(email)}` })).json();
  const otp = /(\d{6})/.exec(box.messages[0].body)?.[1] as string;
  const ver = await t.app.inject({ method: 'POST', url: '/verif-otp', payload: { email, otp } });
  expect(ver.statusCode).toBe(200);
  const data = ver.json().data;
  expect(data['privat-key']).toBe(data.private_key);
  return { email, apiKey: data.api_key, privateKey: data.private_key, h: { 'x-api-key': data.api_key } };
}

async function fund(email: string, amount: number) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/admin/ppob/balance-adjustments',
    headers: admin,
    payload: { email, amount, reason: 'modal awal' },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** The app's address over real connections, listening from the first call on. */
async function listening(): Promise<string> {
  if (!t.app.server.listening) await t.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
}

const saldo = async (r: Reseller) =>
  (await t.app.inject({ method: 'GET', url: '/saldo', headers: r.h })).json().data.saldo as number;
const beli = (r: Reseller, kode: string, nomor: string, extra: Record<string, string> = {}) =>
  t.app.inject({
    method: 'POST',
    url: '/beli',
    headers: { ...r.h, ...extra },
    payload: { kode_produk: kode, nomor_tujuan: nomor },
  });

async function untilFinal(r: Reseller, trxId: string) {
  return until(
    async () => {
      const s = (await t.app.inject({ method: 'GET', url: `/status/${trxId}`, headers: r.h })).json().data;
      return s.status !== 'pending' && s;
    },
    { timeoutMs: 15_000, what: `${trxId} to be final` },
  );
}

async function ledgerIsSound() {
  const a = await audit(t.app.loket.database.db);
  expect(a).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  const negative = await t.app.loket.database.db
    .selectFrom('ledger_accounts')
    .select('code')
    .where('kind', '=', 'wallet')
    .where('balance', '<', 0)
    .execute();
  expect(negative).toEqual([]);
}

describe('registration and keys', () => {
  it('register → e-mailed OTP → verif-otp gives the keys once; registering or verifying again is refused', async () => {
    const r = await register();
    expect(r.apiKey).toMatch(/^lk_/);
    expect(r.privateKey).toMatch(/^lkp_/);
    expect((await t.app.inject({ method: 'GET', url: '/produk', headers: r.h })).statusCode).toBe(200);
    const again = await t.app.inject({ method: 'POST', url: '/register', payload: { nama: 'Rama', email: r.email } });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 409, status: 'error', data: null });
  });

  it('a wrong OTP is 400 and gives no key', async () => {
    const email = `x-${randomBytes(4).toString('hex')}@example.com`;
    await t.app.inject({ method: 'POST', url: '/register', payload: { nama: 'X', email } });
    const res = await t.app.inject({ method: 'POST', url: '/verif-otp', payload: { email, otp: '000000' } });
    expect([400]).toContain(res.statusCode);
    expect(res.body).not.toContain('lk_');
  });

  it('/generate-key rotates: the old key stops working at once', async () => {
    const r = await register();
    const res = await t.app.inject({ method: 'POST', url: '/generate-key', headers: r.h });
    expect(res.statusCode).toBe(201);
    expect(res.json().data.info).toBe('Yang lama sudah tidak berlaku. Simpan baik-baik!');
    expect((await t.app.inject({ method: 'GET', url: '/produk', headers: r.h })).statusCode).toBe(401);
    expect(
      (await t.app.inject({ method: 'GET', url: '/produk', headers: { 'x-api-key': res.json().data.api_key } }))
        .statusCode,
    ).toBe(200);
  });
});

describe('catalogue', () => {
  it('/produk lists products; /cek-produk shows one or 404', async () => {
    const r = await register();
    const list = (await t.app.inject({ method: 'GET', url: '/produk', headers: r.h })).json();
    expect(list).toMatchObject({ code: 200, status: 'success', message: 'Daftar produk' });
    expect(list.data).toContainEqual(
      expect.objectContaining({ kode_produk: 'PLS10', nama: 'Pulsa 10k', harga: 12_000 }),
    );
    const one = await t.app.inject({ method: 'GET', url: '/cek-produk/PLS10', headers: r.h });
    expect(one.json().data.harga).toBe(12_000);
    const none = await t.app.inject({ method: 'GET', url: '/cek-produk/NOPE', headers: r.h });
    expect(none.statusCode).toBe(404);
    expect(none.json()).toEqual({ code: 404, status: 'error', message: 'Produk tidak ditemukan', data: null });
  });
});

describe('purchases', () => {
  it("debits at once, ends sukses with a serial number; status and riwayat show only the caller's own", async () => {
    const r = await register();
    await fund(r.email, 50_000);
    const res = await beli(r, 'PLS10', '081212345678');
    expect(res.statusCode).toBe(200);
    const d = res.json().data;
    expect(d).toMatchObject({
      'kode-produk': 'PLS10',
      'nomor-tujuan': '081212345678',
      status: 'pending',
      sisa_saldo: 38_000,
    });
    expect(d.id.length).toBeLessThanOrEqual(20);
    const final = await untilFinal(r, d.id);
    expect(final).toMatchObject({ status: 'sukses', nominal: 12_000, sisa_saldo: 38_000 });
    expect(final.hasil_eksekusi).toContain('SN:');
    expect(await saldo(r)).toBe(38_000);
    const other = await register();
    expect((await t.app.inject({ method: 'GET', url: `/status/${d.id}`, headers: other.h })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/riwayat', headers: other.h })).json().data).toEqual([]);
    expect((await t.app.inject({ method: 'GET', url: '/riwayat', headers: r.h })).json().data[0].trx_id).toBe(d.id);
    await ledgerIsSound();
  });

  it('a failed purchase (number ending 000) is refunded in full', async () => {
    const r = await register();
    await fund(r.email, 30_000);
    const d = (await beli(r, 'PLS25', '081200000000')).json().data;
    expect(d.sisa_saldo).toBe(4_000);
    const final = await untilFinal(r, d.id);
    expect(final).toMatchObject({ status: 'gagal', sisa_saldo: 30_000 });
    expect(await saldo(r)).toBe(30_000);
    await ledgerIsSound();
  });

  it('not enough balance: 400 "Saldo tidak mencukupi" and nothing changes', async () => {
    const r = await register();
    await fund(r.email, 10_000);
    const res = await beli(r, 'PLS10', '081212345678');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 400, status: 'error', message: 'Saldo tidak mencukupi' });
    expect(await saldo(r)).toBe(10_000);
    expect((await t.app.inject({ method: 'GET', url: '/riwayat', headers: r.h })).json().data).toEqual([]);
  });

  it('bad input is 422 in the PPOB envelope; unknown product 404', async () => {
    const r = await register();
    const bad = await t.app.inject({
      method: 'POST',
      url: '/beli',
      headers: r.h,
      payload: { kode_produk: 'PLS10', nomor_tujuan: 'abc' },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ code: 422, status: 'error' });
    expect((await beli(r, 'NOPE', '0812345678')).statusCode).toBe(404);
  });

  it('double spend: a balance for exactly K items, 200 concurrent /beli over real connections → exactly K accepted', async () => {
    const r = await register();
    const K = 7;
    await fund(r.email, K * 6_500);
    const base = await listening();
    const codes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${base}/beli`, {
          method: 'POST',
          headers: { ...r.h, 'content-type': 'application/json' },
          body: JSON.stringify({ kode_produk: 'PLS5', nomor_tujuan: `0812${String(i).padStart(6, '1')}` }),
        }).then((res) => res.status),
      ),
    );
    expect(codes.filter((c) => c === 200)).toHaveLength(K);
    expect(codes.filter((c) => c !== 200 && c !== 400)).toEqual([]);
    expect(await saldo(r)).toBe(0);
    await ledgerIsSound();
  }, 60_000);

  it('purchases arriving together share one statement, and their results one transaction: five resellers, 2 × 200 concurrent /beli', async () => {
    const resellers = await Promise.all(Array.from({ length: 5 }, () => register()));
    const items = [3, 9, 0, 14, 6]; // PLS5 (6,500) each reseller can afford; the third has nothing
    await Promise.all(resellers.map((r, i) => (items[i] ? fund(r.email, (items[i] as number) * 6_500) : undefined)));
    const metric = async (line: RegExp) => {
      const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      return Number(line.exec(text)?.[1] ?? 0);
    };
    const batchedBefore = await metric(/^loket_batch_size_sum\{name="ppob.purchase"\} (\d+)/m);
    const runsBefore = await metric(/^loket_batch_size_count\{name="ppob.purchase"\} (\d+)/m);
    const resultsBefore = await metric(/^loket_batch_size_sum\{name="ppob.result"\} (\d+)/m);
    const resultRunsBefore = await metric(/^loket_batch_size_count\{name="ppob.result"\} (\d+)/m);
    const base = await listening();
    const wave = (numberOf: (i: number) => string) =>
      Promise.all(
        Array.from({ length: 200 }, (_, i) => {
          const r = resellers[i % 5] as Reseller;
          return fetch(`${base}/beli`, {
            method: 'POST',
            headers: { ...r.h, 'content-type': 'application/json' },
            body: JSON.stringify({ kode_produk: 'PLS5', nomor_tujuan: numberOf(i) }),
          }).then(async (res) => ({
            who: i % 5,
            status: res.status,
            body: (await res.json()) as { data: { id: string; sisa_saldo: number } },
          }));
        }),
      );
    const answers = await wave((i) => `0813${i}111`);
    resellers.forEach((_, i) => {
      const mine = answers.filter((a) => a.who === i);
      expect(mine.filter((a) => a.status === 200)).toHaveLength(items[i] as number);
      expect(mine.filter((a) => a.status !== 200 && a.status !== 400).map((a) => [a.status, a.body])).toEqual([]);
    });
    // Every accepted purchase says what was left right after it: each reseller's answers count down to 0.
    resellers.forEach((_, i) => {
      const left = answers
        .filter((a) => a.who === i && a.status === 200)
        .map((a) => a.body.data.sisa_saldo)
        .sort((x, y) => y - x);
      expect(left).toEqual(
        Array.from({ length: items[i] as number }, (_, k) => ((items[i] as number) - 1 - k) * 6_500),
      );
    });
    for (const r of resellers) expect(await saldo(r)).toBe(0);
    // 200 requests in fewer runs than requests: batches formed, and none failed as a whole.
    const runs = (await metric(/^loket_batch_size_count\{name="ppob.purchase"\} (\d+)/m)) - runsBefore;
    const batched = (await metric(/^loket_batch_size_sum\{name="ppob.purchase"\} (\d+)/m)) - batchedBefore;
    expect(batched).toBe(200);
    expect(runs).toBeLessThan(200);
    expect(await metric(/^loket_batch_fallbacks_total\{name="ppob.purchase"\} (\d+)/m)).toBe(0);
    await ledgerIsSound();

    // A second wave in which every third number is one the simulator refuses ("…000"): refunds come back while
    // purchases are still arriving, so how many are accepted depends on timing, but the money never does. The
    // dispatcher records the answers in batches: each refused purchase refunded once, each other one settled.
    const funding = 10 * 6_500;
    await Promise.all(resellers.map((r) => fund(r.email, funding)));
    const second = await wave((i) => (i % 3 === 0 ? `0813${i}000` : `0813${i}111`));
    expect(second.every((a) => a.status === 200 || a.status === 400)).toBe(true);
    const finals = await Promise.all(
      [...answers, ...second]
        .filter((a) => a.status === 200)
        .map(async (a) => ({ who: a.who, final: await untilFinal(resellers[a.who] as Reseller, a.body.data.id) })),
    );
    for (const f of finals) expect(f.final.status).toBe(f.final.nomor_tujuan.endsWith('000') ? 'gagal' : 'sukses');
    for (const [i, r] of resellers.entries()) {
      const settled = finals.filter((f) => f.who === i && f.final.status === 'sukses').length;
      expect(await saldo(r)).toBe((items[i] as number) * 6_500 + funding - settled * 6_500);
    }
    const resultRuns = (await metric(/^loket_batch_size_count\{name="ppob.result"\} (\d+)/m)) - resultRunsBefore;
    const results = (await metric(/^loket_batch_size_sum\{name="ppob.result"\} (\d+)/m)) - resultsBefore;
    expect(results).toBeGreaterThanOrEqual(finals.length);
    expect(resultRuns).toBeLessThan(results);
    expect(await metric(/^loket_batch_fallbacks_total\{name="ppob.result"\} (\d+)/m)).toBe(0);
    await ledgerIsSound();

    // Purchases written together were posted to one clearing row, statements in flight at once to different rows,
    // and each settlement or refund took the money back out of the row its own purchase had put it on.
    const ids = finals.map((f) => f.final.trx_id as string);
    const rows = (
      await sql<{ trx_id: string; row: string; purchase_row: string; final_row: string }>`
        SELECT t.trx_id, t.clearing_shard AS row, ap.code AS purchase_row, af.code AS final_row
        FROM ppob_transactions t
        JOIN ledger_journals jp ON jp.kind = 'ppob.purchase' AND jp.reference = t.trx_id
        JOIN ledger_entries ep ON ep.journal_id = jp.id
        JOIN ledger_accounts ap ON ap.id = ep.ledger_account_id AND ap.kind = 'clearing'
        JOIN ledger_journals jf ON jf.kind IN ('ppob.settle', 'ppob.refund') AND jf.reference = t.trx_id
        JOIN ledger_entries ef ON ef.journal_id = jf.id
        JOIN ledger_accounts af ON af.id = ef.ledger_account_id AND af.kind = 'clearing'
        WHERE t.trx_id = ANY(${ids}::text[])`.execute(t.app.loket.database.db)
    ).rows;
    expect(rows).toHaveLength(ids.length);
    for (const r of rows) {
      expect(r.purchase_row).toBe(`clearing:ppob:provider#${r.row}`);
      expect(r.final_row).toBe(r.purchase_row);
    }
    // Each purchase statement takes one row: no more rows than statements in both waves, and more than one.
    const statements = (await metric(/^loket_batch_size_count\{name="ppob.purchase"\} (\d+)/m)) - runsBefore;
    const used = new Set(rows.map((r) => r.row)).size;
    expect(used).toBeGreaterThan(1);
    expect(used).toBeLessThanOrEqual(Math.min(statements, 64));
  }, 60_000);
});

describe('security suite', () => {
  apiKeySecuritySuite(() => t, { method: 'GET', url: '/produk', module: 'ppob' });
  apiKeySecuritySuite(() => t, { method: 'GET', url: '/riwayat', module: 'ppob' });
  apiKeySecuritySuite(() => t, { method: 'GET', url: '/saldo', module: 'ppob' });
});

describe('Idempotency-Key on /beli', () => {
  it('ten times the same key → one debit and the same answer; another body with it → 422', async () => {
    const r = await register();
    await fund(r.email, 100_000);
    const key = { 'idempotency-key': `order-${randomBytes(4).toString('hex')}` };
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await beli(r, 'PLS10', '081234567890', key));
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.json().data.id)).size).toBe(1);
    expect(await saldo(r)).toBe(88_000);
    const other = await beli(r, 'PLS25', '081234567890', key);
    expect(other.statusCode).toBe(422);
    expect(await saldo(r)).toBe(88_000);
  });

  it('parallel requests with one key execute once (the others replay or are told it is running)', async () => {
    const r = await register();
    await fund(r.email, 100_000);
    const key = { 'idempotency-key': `par-${randomBytes(4).toString('hex')}` };
    const res = await Promise.all(Array.from({ length: 8 }, () => beli(r, 'PLS10', '081234567891', key)));
    expect(res.every((x) => x.statusCode === 200 || x.statusCode === 409)).toBe(true);
    expect(new Set(res.filter((x) => x.statusCode === 200).map((x) => x.json().data.id)).size).toBe(1);
    expect(await saldo(r)).toBe(88_000);
    const history = (await t.app.inject({ method: 'GET', url: '/riwayat', headers: r.h })).json().data;
    expect(history).toHaveLength(1);
  });
});

describe('Idempotency-Key claims', () => {
  it('a request that stalls past the takeover time cannot complete: its work rolls back, the retry answers', async () => {
    const { db } = t.app.loket.database;
    const account = await makeAccount(t.app, { ppob: 1 });
    const probe = `idem_probe_${randomBytes(3).toString('hex')}`;
    await sql.raw(`CREATE TABLE ${probe} (done_by text NOT NULL)`).execute(db);
    const scope = (now: Date) => ({ accountId: account.id, name: 'ppob.beli', key: `k-${probe}`, body: { a: 1 }, now });
    /** The operation's work and its stored answer, in one transaction, as a purchase does it. */
    const work = (who: string) => (claim: Claim | undefined) =>
      withTransaction(db, async (trx) => {
        await sql.raw(`INSERT INTO ${probe} VALUES ('${who}')`).execute(trx);
        const response = { status: 200, body: { by: who } };
        await claim?.complete(trx, response);
        return response;
      });
    let release!: () => void;
    const stalled = new Promise<void>((r) => {
      release = r;
    });
    const start = new Date();
    // The first request claims the key, then stalls before its transaction.
    let claimed = false;
    const first = runIdempotent(db, scope(start), async (claim) => {
      claimed = true;
      await stalled;
      return work('first')(claim);
    });
    await until(() => claimed, { what: 'the first request to claim the key' });
    // While it is still running, a retry is told so; 61 s later, a retry takes the claim over and completes.
    await expect(runIdempotent(db, scope(new Date(start.getTime() + 1000)), work('early'))).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    const retry = await runIdempotent(db, scope(new Date(start.getTime() + 61_000)), work('retry'));
    expect(retry.body).toEqual({ by: 'retry' });
    release();
    await expect(first).rejects.toMatchObject({ code: 'CONFLICT' });
    // The operation ran to the end twice, but only the retry's work committed, and its answer is the stored one.
    expect((await sql<{ done_by: string }>`SELECT done_by FROM ${sql.table(probe)}`.execute(db)).rows).toEqual([
      { done_by: 'retry' },
    ]);
    const again = await runIdempotent(db, scope(new Date(start.getTime() + 62_000)), work('third'));
    expect(again.body).toEqual({ by: 'retry' });
    await sql.raw(`DROP TABLE ${probe}`).execute(db);
  });
});

describe('top-up by QRIS', () => {
  it('POST /deposit gives a QRIS; paying it (simulator → real webhook) credits the balance once', async () => {
    const r = await register();
    const res = await t.app.inject({ method: 'POST', url: '/deposit', headers: r.h, payload: { nominal: 50_000 } });
    expect(res.statusCode).toBe(201);
    const dep = res.json().data;
    expect(dep).toMatchObject({ nominal: 50_000, status: 'PENDING', qris_string: expect.stringMatching(/^000201/) });
    expect((await t.app.inject({ method: 'POST', url: `/_dev/payments/${dep.id}/pay` })).statusCode).toBe(200);
    await until(async () => (await saldo(r)) !== 0, { what: 'the deposit to be credited' });
    expect(await saldo(r)).toBe(50_000);
    await t.app.inject({ method: 'POST', url: `/_dev/payments/${dep.id}/pay` });
    await jobsSettled(t.app);
    expect(await saldo(r)).toBe(50_000);
    const got = await t.app.inject({ method: 'GET', url: `/deposit/${dep.id}`, headers: r.h });
    expect(got.json().data).toMatchObject({ status: 'COMPLETED', paid_at: expect.any(String) });
    const other = await register();
    expect((await t.app.inject({ method: 'GET', url: `/deposit/${dep.id}`, headers: other.h })).statusCode).toBe(404);
    await ledgerIsSound();
  });

  it('refuses amounts outside 10.000–10.000.000', async () => {
    const r = await register();
    expect(
      (await t.app.inject({ method: 'POST', url: '/deposit', headers: r.h, payload: { nominal: 5_000 } })).statusCode,
    ).toBe(422);
  });
});

describe('client callbacks', () => {
  it('the final status is POSTed to the reseller, signed in the Standard Webhooks format with its private key', async () => {
    const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(received.length === 1 ? 500 : 204).end(); // the first delivery fails: it must be retried
      });
    });
    await new Promise<void>((x) => server.listen(0, '127.0.0.1', () => x()));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
      const r = await register();
      await fund(r.email, 20_000);
      expect((await t.app.inject({ method: 'PUT', url: '/callback', headers: r.h, payload: { url } })).statusCode).toBe(
        200,
      );
      const d = (await beli(r, 'PLS10', '081277777777')).json().data;
      await until(() => received.length >= 2, { timeoutMs: 30_000, what: 'two deliveries to the receiver' });
      const last = received.at(-1);
      if (!last) throw new Error('no delivery reached the receiver');
      const id = String(last.headers['webhook-id']);
      const ts = String(last.headers['webhook-timestamp']);
      const expected = createHmac('sha256', r.privateKey).update(`${id}.${ts}.${last.body}`).digest('base64');
      expect(last.headers['webhook-signature']).toBe(`v1,${expected}`);
      expect(JSON.parse(last.body).data).toMatchObject({ trx_id: d.id, status: 'sukses' });
      // Issue 21 finding 13 (CONTRACTS §6): the callback's `waktu` is WIB with its offset, the same as /status shows.
      const shown = (await t.app.inject({ method: 'GET', url: `/status/${d.id}`, headers: r.h })).json().data.waktu;
      expect(JSON.parse(last.body).data.waktu).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$/);
      expect(JSON.parse(last.body).data.waktu).toBe(shown);
      // The delivery is logged once Loket has read the receiver's answer, a moment after the receiver saw it.
      const readLog = async () => (await t.app.inject({ method: 'GET', url: '/callback', headers: r.h })).json().data;
      const log = await until(
        async () => {
          const l = await readLog();
          return l.deliveries[0]?.delivered_at && l;
        },
        { what: 'the delivery to be logged' },
      );
      expect(log.url).toBe(url);
      expect(log.deliveries[0]).toMatchObject({ trx_id: d.id, delivered_at: expect.any(String), last_status: 204 });
      expect(log.deliveries[0].attempts).toBeGreaterThanOrEqual(2);
    } finally {
      await new Promise((x) => server.close(() => x(null)));
    }
  }, 60_000);
});

describe('admin', () => {
  it('products: create (unique kode_produk), update, delete; balance adjustments never go below zero and need a reason', async () => {
    const p = await t.app.inject({
      method: 'POST',
      url: '/api/admin/ppob/products',
      headers: admin,
      payload: { kode_produk: `T${randomBytes(3).toString('hex')}`, nama: 'Tes', harga: 1_000 },
    });
    expect(p.statusCode).toBe(201);
    const dup = await t.app.inject({
      method: 'POST',
      url: '/api/admin/ppob/products',
      headers: admin,
      payload: { kode_produk: p.json().kode_produk, nama: 'Lagi', harga: 1 },
    });
    expect(dup.statusCode).toBe(409);
    const upd = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/ppob/products/${p.json().id}`,
      headers: admin,
      payload: { harga: 2_000 },
    });
    expect(upd.json().harga).toBe(2_000);
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/api/admin/ppob/products/${p.json().id}`, headers: admin })).json(),
    ).toEqual({ result: 'deleted' });

    const r = await register();
    await fund(r.email, 5_000);
    const below = await t.app.inject({
      method: 'POST',
      url: '/api/admin/ppob/balance-adjustments',
      headers: admin,
      payload: { email: r.email, amount: -6_000, reason: 'koreksi' },
    });
    expect(below.statusCode).toBe(400);
    expect(await saldo(r)).toBe(5_000);
    const noReason = await t.app.inject({
      method: 'POST',
      url: '/api/admin/ppob/balance-adjustments',
      headers: admin,
      payload: { email: r.email, amount: 1 },
    });
    expect(noReason.statusCode).toBe(422);
    const minus = await t.app.inject({
      method: 'POST',
      url: '/api/admin/ppob/balance-adjustments',
      headers: admin,
      payload: { email: r.email, amount: -2_000, reason: 'koreksi salah transfer' },
    });
    expect(minus.json().saldo).toBe(3_000);
    const logged = await t.app.loket.database.db
      .selectFrom('activity_logs')
      .selectAll()
      .where('action', '=', 'ppob.balance.adjusted')
      .execute();
    expect(logged.length).toBeGreaterThanOrEqual(3);
    await ledgerIsSound();
  });
});
