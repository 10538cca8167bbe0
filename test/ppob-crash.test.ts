// PPOB under kill -9 (the issue's "kill -9 during a stream of purchases, restart → every accepted purchase ends
// sukses or gagal (refunded), ledger balanced"). The real Loket (`src/main.ts serve`) runs in a child process on
// this run's database (a fresh PostgreSQL database, or the embedded one in a data directory of its own), takes a
// stream of purchases from concurrent clients, is killed with SIGKILL while it is submitting them to the provider
// and checking them, and is started again on the same database. Then every purchase must end `sukses` or `gagal`
// within a bounded wait, each `gagal` refunded exactly once, and the money must add up: wallet = funding − Σ sukses,
// clearing empty, revenue = Σ sukses, and the ledger's own audit clean. Requests cut by the kill are retried with
// their Idempotency-Key, as a client would: none of them may lose money or buy twice.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/core/db/database.ts';
import { audit, balanceOf, sharedBalance, walletCode } from '../src/core/ledger/ledger.ts';
import { createLogger } from '../src/core/log.ts';
import { CLEARING, REVENUE } from '../src/modules/ppob/ledger.ts';
import type { PpobTransaction } from '../src/modules/ppob/repo/tables.ts';
import { createTestDatabase, REDIS_URL } from './helpers/db.ts';
import { freePort } from './helpers/net.ts';

const ROOT = join(import.meta.dirname, '..');
const NODE = process.execPath; // the project's Node 24, as npm test runs it

const FUNDING = 5_000_000;
const CLIENTS = 4;
const PAUSE_MS = 500; // between one client's purchases: a steady stream, not a flood the provider calls lag behind
const MAX_REQUESTS = 150; // a safety stop; the kill comes after about 20
const SIMULATOR_DELAY_MS = 1000; // a purchase is final about a second after it is submitted
const FINAL_WITHIN_MS = 30_000; // after the restart, every purchase is final within this

function start(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(NODE, ['--disable-warning=ExperimentalWarning', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep); // read for the whole life of the process, so its pipes never fill up
  child.stderr?.on('data', keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start: ${out}`)), 30_000);
    const onData = () => {
      if (!out.includes('Loket is listening')) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      resolve(child);
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${out}`));
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });

const tmpDirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

interface Purchase {
  key: string; // its Idempotency-Key
  kode: string;
  nomor: string;
}
interface Accepted extends Purchase {
  id: string;
  harga: number;
  status: string;
}
/** The JSON answers this test reads over HTTP (outbox, reseller routes, the admin's balance adjustment). */
interface Answer {
  messages: { body: string }[];
  saldo: number;
  data: { id: string; harga: number; status: string; saldo: number; api_key: string };
}

describe('PPOB purchases across a kill -9', () => {
  it('every accepted purchase ends sukses or gagal (refunded once) after a restart; the ledger balances', async () => {
    const db = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'loket-ppob-crash-'));
    tmpDirs.push(dir);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const admin = { email: `owner-${randomBytes(4).toString('hex')}@example.com`, password: 'crash-test-password' };
    const env: Record<string, string> = {
      PORT: String(port),
      LOKET_DATA_DIR: dir,
      LOKET_MODULES: 'ppob',
      LOKET_DEMO: '1', // the demo catalogue (PLS5 6.500, PLS10 12.000); not seeded again once products exist
      LOKET_RATE_LIMITS: 'off',
      LOKET_ADMIN_EMAIL: admin.email,
      LOKET_ADMIN_PASSWORD: admin.password,
      PPOB_SIMULATOR_DELAY_MS: String(SIMULATOR_DELAY_MS),
      PPOB_PROVIDER_TIMEOUT_MS: '2000', // the simulator answers at once; no provider call may take longer
      JOB_SUPERVISE_SECONDS: '1',
      LOG_LEVEL: 'info', // "Loket is listening" is an info line
      ...(db.url ? { DATABASE_URL: db.url } : {}),
      ...(REDIS_URL ? { REDIS_URL, REDIS_PREFIX: `loket-test-${randomBytes(6).toString('hex')}:` } : {}),
    };
    const call = async (path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown }) => {
      const res = await fetch(`${base}${path}`, {
        method: init.method ?? 'GET',
        headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      return { status: res.status, body: (await res.json()) as Answer };
    };

    try {
      // ---- first instance: a reseller (register → e-mailed OTP → API key), funded by an admin ----
      const first = await start(env);
      children.push(first);

      const email = `reseller-${randomBytes(4).toString('hex')}@example.com`;
      expect((await call('/register', { method: 'POST', body: { nama: 'Rama', email } })).status).toBe(201);
      const box = await call(`/_dev/outbox?to=${encodeURIComponent(email)}`, {});
      const mail = box.body.messages[0];
      if (!mail) throw new Error(`no OTP e-mail to ${email}`);
      const otp = /(\d{6})/.exec(mail.body)?.[1] as string;
      const keys = await call('/verif-otp', { method: 'POST', body: { email, otp } });
      expect(keys.status).toBe(200);
      const reseller = { 'x-api-key': keys.body.data.api_key as string };

      const login = await fetch(`${base}/api/users/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: admin.email, password: admin.password }).toString(),
      });
      expect(login.status).toBe(200);
      const token = ((await login.json()) as { access_token: string }).access_token;
      const funded = await call('/api/admin/ppob/balance-adjustments', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: { email, amount: FUNDING, reason: 'modal awal' },
      });
      expect(funded.status, JSON.stringify(funded.body)).toBe(201);
      expect(funded.body.saldo).toBe(FUNDING);

      const beli = (p: Purchase) =>
        call('/beli', {
          method: 'POST',
          headers: { ...reseller, 'idempotency-key': p.key },
          body: { kode_produk: p.kode, nomor_tujuan: p.nomor },
        });

      // ---- a stream of purchases; kill -9 in the middle of it ----
      // The process is killed as soon as the oldest purchase is final: by then others are being submitted to and
      // checked with the provider while new purchases keep arriving, so purchases are caught in every state.
      const accepted: Accepted[] = [];
      const interrupted: Purchase[] = [];
      const refused: { status: number; body: unknown }[] = [];
      let fired = 0;
      let killed = false;
      let oldestFinal: string | undefined;
      let killedAt = 0;
      const client = async () => {
        // A client buys until one of its own requests fails: the one cut mid-flight by the kill, or the next,
        // refused because nothing listens any more. Either way the client does not know what became of it.
        while (fired < MAX_REQUESTS) {
          const i = fired++;
          const p: Purchase = {
            key: `crash-${i}`,
            kode: i % 2 === 0 ? 'PLS5' : 'PLS10',
            // Every third number ends in 000: the simulator fails it, so it must be refunded.
            nomor: i % 3 === 0 ? `0812${String(i).padStart(5, '0')}000` : `0812${String(i).padStart(6, '0')}55`,
          };
          try {
            const res = await beli(p);
            if (res.status === 200)
              accepted.push({ ...p, id: res.body.data.id, harga: res.body.data.harga, status: res.body.data.status });
            else refused.push(res);
          } catch {
            interrupted.push(p);
            return;
          }
          await new Promise((r) => setTimeout(r, PAUSE_MS));
        }
      };
      const observer = async () => {
        while (!killed && fired < MAX_REQUESTS) {
          await new Promise((r) => setTimeout(r, 100));
          const oldest = accepted[0];
          if (!oldest) continue;
          const s = await call(`/status/${oldest.id}`, { headers: reseller });
          if (s.body.data.status !== 'pending') {
            oldestFinal = s.body.data.status;
            killed = true;
            killedAt = Date.now();
            first.kill('SIGKILL');
          }
        }
      };
      await Promise.all([observer(), ...Array.from({ length: CLIENTS }, client)]);
      expect(killed, `all ${MAX_REQUESTS} purchases were answered before any became final`).toBe(true);
      expect(await exited(first)).toEqual({ code: null, signal: 'SIGKILL' });
      expect(['sukses', 'gagal']).toContain(oldestFinal);
      expect(refused).toEqual([]);
      expect(accepted.length).toBeGreaterThan(1);
      expect(accepted.filter((a) => a.status !== 'pending')).toEqual([]); // accepted = debited, result to come
      expect(new Set(accepted.map((a) => a.id)).size).toBe(accepted.length);
      expect(interrupted.length).toBe(CLIENTS);

      // ---- second instance on the same database and data directory ----
      const second = await start(env);
      children.push(second);
      const restartedAt = Date.now();

      // Each cut request is sent again with its Idempotency-Key. A purchase the killed process committed is
      // answered again (200, the same transaction); one it did not commit is bought now (200) or, while its
      // orphaned claim is younger than a minute, refused with 409 — and then nothing may have been debited for it.
      const known = new Map<string, { harga: number; nomor: string }>();
      for (const a of accepted) known.set(a.id, a);
      for (const p of interrupted) {
        const res = await beli(p);
        expect([200, 409], JSON.stringify(res.body)).toContain(res.status);
        if (res.status === 200) known.set(res.body.data.id, { harga: res.body.data.harga, nomor: p.nomor });
      }

      // Every purchase the client knows of becomes final within a bounded wait.
      const outcome = new Map<string, string>();
      let pending = [...known.keys()];
      while (pending.length > 0) {
        if (Date.now() - restartedAt > FINAL_WITHIN_MS)
          throw new Error(`still pending ${FINAL_WITHIN_MS} ms after the restart: ${pending.join(', ')}`);
        await new Promise((r) => setTimeout(r, 500));
        for (const id of pending) {
          const s = await call(`/status/${id}`, { headers: reseller });
          expect(s.status).toBe(200);
          if (s.body.data.status !== 'pending') outcome.set(id, s.body.data.status);
        }
        pending = pending.filter((id) => !outcome.has(id));
      }
      // A number ending in 000 fails at the simulator; every other purchase succeeds.
      for (const [id, k] of known) expect(outcome.get(id), id).toBe(k.nomor.endsWith('000') ? 'gagal' : 'sukses');
      const spent = [...known].filter(([id]) => outcome.get(id) === 'sukses').reduce((s, [, k]) => s + k.harga, 0);
      expect((await call('/saldo', { headers: reseller })).body.data.saldo).toBe(FUNDING - spent);

      second.kill('SIGTERM');
      expect(await exited(second)).toEqual({ code: 0, signal: null });

      // ---- the books, read from the database both instances used ----
      const config = loadConfig({
        LOKET_DATA_DIR: dir,
        LOG_LEVEL: 'silent',
        ...(db.url ? { DATABASE_URL: db.url } : {}),
      });
      const database = await openDatabase(config, createLogger(config));
      try {
        const q = database.db;
        const rows: PpobTransaction[] = await q.selectFrom('ppob_transactions').selectAll().orderBy('id').execute();
        // Exactly the purchases the client knows of: a cut request answered 409 left no transaction behind.
        expect(rows.map((r) => r.trx_id).sort()).toEqual([...known.keys()].sort());
        expect(rows.filter((r) => r.status === 'pending')).toEqual([]);
        // The kill came in the middle: some purchases were final before it, others only after the restart.
        const finishedAt = rows.map((r) => new Date(r.finished_at as Date).getTime());
        expect(finishedAt.some((t) => t <= killedAt)).toBe(true);
        expect(finishedAt.some((t) => t > killedAt)).toBe(true);
        const journals = await q
          .selectFrom('ledger_journals')
          .select(['kind', 'reference'])
          .where('kind', 'in', ['ppob.purchase', 'ppob.settle', 'ppob.refund'])
          .execute();
        const count = (kind: string, ref: string) =>
          journals.filter((j) => j.kind === kind && j.reference === ref).length;
        for (const r of rows) {
          expect(count('ppob.purchase', r.trx_id), r.trx_id).toBe(1);
          expect(count('ppob.settle', r.trx_id), r.trx_id).toBe(r.status === 'sukses' ? 1 : 0);
          expect(count('ppob.refund', r.trx_id), r.trx_id).toBe(r.status === 'gagal' ? 1 : 0);
        }
        // Two journals per purchase and nothing else: no debit, settlement or refund without its transaction.
        expect(journals.length).toBe(rows.length * 2);

        const sukses = rows.filter((r) => r.status === 'sukses').reduce((s, r) => s + r.harga, 0);
        expect(sukses).toBe(spent);
        const firstRow = rows[0];
        if (!firstRow) throw new Error('no PPOB transactions were recorded');
        expect(await balanceOf(q, walletCode('ppob', firstRow.account_id))).toBe(FUNDING - sukses);
        // Provider clearing and revenue, however many rows each is kept in: nothing left in clearing.
        const total = async (prefix: string) =>
          (
            await q.selectFrom('ledger_accounts').select('balance').where('code', 'like', `${prefix}%`).execute()
          ).reduce((s, a) => s + a.balance, 0);
        expect(await total('clearing:ppob:')).toBe(0);
        expect(await total('revenue:ppob')).toBe(sukses);
        // The ledger's own reading of its sharded house accounts agrees.
        expect(await sharedBalance(q, CLEARING)).toBe(0);
        expect(await sharedBalance(q, REVENUE)).toBe(sukses);
        expect(await audit(q)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
      } finally {
        await database.close();
      }
    } finally {
      await db.drop();
    }
  }, 60_000);
});
