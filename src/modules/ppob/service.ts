// PPOB business rules: registration by e-mail OTP, API keys, the catalogue, purchases against a ledger wallet,
// provider results (refund exactly once on "gagal"), QRIS top-ups, and signed callbacks to the reseller.
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { sql } from 'kysely';
import { type RequestOrigin, recordActivity } from '../../core/audit/audit.ts';
import { createBatcher } from '../../core/batcher.ts';
import type { Core } from '../../core/context.ts';
import type { Executor, Trx } from '../../core/db/tables.ts';
import { withTransaction } from '../../core/db/transaction.ts';
import { AppError, registerErrorCodes } from '../../core/http/errors.ts';
import { findByLogin } from '../../core/identity/accounts.ts';
import {
  balanceOf,
  ensureAccounts,
  isInsufficient,
  type Posting,
  post,
  postingBatchCall,
  postingCall,
  walletCode,
} from '../../core/ledger/ledger.ts';
import type { PaymentIntent } from '../../core/payments/service.ts';
import { createDispatcher } from './dispatcher.ts';
import { type Claim, runIdempotent, type StoredResponse } from './idempotency.ts';
import type { PpobProvider, ProviderResult } from './providers/provider.ts';
import * as repo from './repo.ts';

registerErrorCodes({ INSUFFICIENT_BALANCE: 400 });

export const MODULE = 'ppob';
const OTP_PURPOSE = 'ppob.register';
// Every purchase touches clearing and every success revenue: kept in 64 rows each so purchases do not queue on one
// row lock (the ledger's `shards`).
export const CLEARING = { code: 'clearing:ppob:provider', kind: 'clearing', shards: 64 } as const;
export const REVENUE = { code: 'revenue:ppob', kind: 'revenue', shards: 64 } as const;
const CASH_QRIS = { code: 'cash:ppob:qris', kind: 'cash' } as const;
const ADJUSTMENTS = { code: 'adjustment:ppob', kind: 'adjustment' } as const;
const wallet = (accountId: number) => ({
  code: walletCode(MODULE, accountId),
  kind: 'wallet' as const,
  ownerAccountId: accountId,
});

export const DEPOSIT_TTL_MS = 15 * 60_000;

/** A purchase accepted by /beli, about to be written. */
interface Purchase {
  accountId: number;
  product: repo.Product;
  nomorTujuan: string;
  trxId: string;
  at: Date;
}

export type PpobServiceDeps = Pick<
  Core,
  'database' | 'jobs' | 'identity' | 'payments' | 'outbox' | 'now' | 'config' | 'logger' | 'bus' | 'metrics'
>;

export function createPpobService(core: PpobServiceDeps, provider: PpobProvider) {
  const { db } = core.database;
  const now = () => core.now();

  // House rows for statements written together: each purchase statement (alone or batched) posts to the next
  // clearing row and each recording of provider answers credits the next revenue row, so statements in flight at the
  // same time lock different rows instead of queueing on rows that all of them touch. Each instance starts at a
  // random row. A purchase keeps its row (`clearing_shard`) for its settlement or refund.
  const rotation = (rows: number) => {
    let at = randomInt(rows);
    return () => {
      at = (at + 1) % rows;
      return at;
    };
  };
  const nextClearingRow = rotation(CLEARING.shards);
  const nextRevenueRow = rotation(REVENUE.shards);

  // ---- catalogue, cached per instance; admin changes drop the cache on every instance ----
  let catalogue:
    | { at: number; products: repo.Product[]; byCode: Map<string, repo.Product>; byId: Map<number, repo.Product> }
    | undefined;
  // One reload at a time: the requests that find the catalogue expired or dropped share it (else every request in
  // flight at that moment would read the table and build its own copy). A drop during a reload discards it: what
  // it read may predate the change.
  let reloading: Promise<NonNullable<typeof catalogue>> | undefined;
  let generation = 0;
  const dropCatalogue = () => {
    catalogue = undefined;
    reloading = undefined;
    generation++;
  };
  core.bus.subscribe('ppob.products.changed', dropCatalogue);
  core.bus.onGap(dropCatalogue);
  /** The catalogue when the cache holds a fresh one (no promise); undefined when it must be read. */
  const freshCatalogue = () => (catalogue && Date.now() - catalogue.at <= 30_000 ? catalogue : undefined);
  async function products() {
    const fresh = freshCatalogue();
    if (fresh) return fresh;
    if (reloading) return reloading;
    const of = generation;
    const read = repo
      .activeProducts(db)
      .then((list) => {
        const loaded = {
          at: Date.now(),
          products: list,
          byCode: new Map(list.map((p) => [p.kode_produk, p])),
          byId: new Map(list.map((p) => [p.id, p])),
        };
        if (of === generation) catalogue = loaded;
        return loaded;
      })
      .finally(() => {
        if (reloading === read) reloading = undefined;
      });
    reloading = read;
    return read;
  }
  const productsChanged = () => core.bus.publish('ppob.products.changed', {});

  const newId = (prefix: string, length: number) => {
    const time = Date.now().toString(36).toUpperCase();
    const rand = randomBytes(8).toString('hex').toUpperCase();
    return `${prefix}${time}${rand}`.slice(0, length);
  };

  // ---- provider results: the one place a purchase becomes final ----
  /** When a still-pending purchase is asked about again (SQL, relative to the row's own `checks`). */
  const nextCheck = (at: Date) =>
    provider.name === 'simulator'
      ? sql<Date>`${new Date(at.getTime() + core.config.ppobSimulatorDelayMs)}::timestamptz`
      : sql<Date>`${at}::timestamptz + least(600, 5 * power(2, least(checks, 7))) * interval '1 second'`;
  const hasilOf = (r: ProviderResult) => (r.serialNumber ? `${r.message} SN: ${r.serialNumber}` : r.message);

  type Recorded = 'final' | 'pending' | 'unchanged';
  /**
   * Records provider answers, one or many, in one transaction on `via`: still-pending answers by one conditional
   * UPDATE that makes them due again (simulator: after its fixed delay; a real provider: 5 s doubling to 10 min, for
   * as long as it takes — an unknown outcome is never refunded blindly); for final ones, the rows still pending are
   * locked, every settlement (clearing → revenue) and refund (clearing → wallet) is posted with `ledger_post_many`,
   * the rows are written by one UPDATE and their callbacks queued. A row another writer finalised meanwhile is left
   * alone: the lock and the journals' `(kind, reference)` key see to it that a purchase is settled or refunded once.
   * Answers per item: 'final', 'pending' (made due again) or 'unchanged' (no longer pending).
   */
  async function recordMany(
    items: { trxId: string; result: ProviderResult }[],
    via: Executor = core.database.worker,
  ): Promise<Recorded[]> {
    const pending = items.filter((x) => x.result.status === 'pending');
    const byId = new Map(items.filter((x) => x.result.status !== 'pending').map((x) => [x.trxId, x.result]));
    const outcomes = new Map<string, Recorded>();
    await withTransaction(via, async (trx) => {
      if (pending.length > 0) {
        const due = await sql<{ trx_id: string }>`
          UPDATE ppob_transactions t SET checks = t.checks + 1, hasil_eksekusi = v.hasil, provider_code = v.code,
            next_check_at = ${nextCheck(now())}
          FROM unnest(${pending.map((x) => x.trxId)}::text[], ${pending.map((x) => hasilOf(x.result))}::text[],
            ${pending.map((x) => x.result.code ?? null)}::text[]) AS v (trx_id, hasil, code)
          WHERE t.trx_id = v.trx_id AND t.status = 'pending'
          RETURNING t.trx_id`.execute(trx);
        for (const r of due.rows) outcomes.set(r.trx_id, 'pending');
      }
      if (byId.size === 0) return;
      const rows = (
        await sql<repo.PpobTransaction>`
          SELECT * FROM ppob_transactions WHERE trx_id = ANY(${[...byId.keys()]}::text[]) AND status = 'pending'
          ORDER BY id FOR UPDATE`.execute(trx)
      ).rows;
      if (rows.length === 0) return;
      for (const t of rows) outcomes.set(t.trx_id, 'final');
      const at = now();
      const outcome = (t: repo.PpobTransaction) => byId.get(t.trx_id) as ProviderResult;
      const revenueRow = nextRevenueRow();
      const journals = (kind: string, ts: repo.PpobTransaction[], to: (t: repo.PpobTransaction) => Posting) =>
        ts.length === 0
          ? undefined
          : {
              kind,
              ts,
              ...postingBatchCall(
                kind,
                at,
                ts.map((t) => ({
                  reference: t.trx_id,
                  postings: [{ account: CLEARING, amount: -t.harga, shard: t.clearing_shard ?? undefined }, to(t)],
                })),
              ),
            };
      const batches = [
        journals(
          'ppob.settle',
          rows.filter((t) => outcome(t).status === 'sukses'),
          (t) => ({ account: REVENUE, amount: t.harga, shard: revenueRow }),
        ),
        journals(
          'ppob.refund',
          rows.filter((t) => outcome(t).status === 'gagal'),
          (t) => ({ account: wallet(t.account_id), amount: t.harga }),
        ),
      ].filter((b) => b !== undefined);
      // Both calls' accounts locked at once, in code order: taken call by call, two recorders could each hold a row
      // the other's second call needs.
      const codes = [...new Set(batches.flatMap((b) => b.codes.flat()))].sort();
      await sql`SELECT 1 FROM ledger_accounts WHERE code = ANY(${codes}::text[]) ORDER BY code COLLATE "C" FOR UPDATE`.execute(
        trx,
      );
      const sisa = new Map(rows.map((t) => [t.trx_id, t.sisa_saldo]));
      for (const b of batches) {
        const posted = (
          await sql<{ out_reason: string; out_balances: string[] | null }>`
            SELECT * FROM ${b.call} ORDER BY out_index`.execute(trx)
        ).rows;
        posted.forEach((r, i) => {
          const t = b.ts[i] as repo.PpobTransaction;
          if (r.out_reason !== 'ok') throw new Error(`journal ${b.kind}/${t.trx_id}: ${r.out_reason}`);
          const w = (b.codes[i] as string[]).indexOf(walletCode(MODULE, t.account_id));
          if (w >= 0) sisa.set(t.trx_id, Number(r.out_balances?.[w]));
        });
      }
      const done = rows.map((t) => ({
        ...t,
        status: outcome(t).status as 'sukses' | 'gagal',
        hasil_eksekusi: hasilOf(outcome(t)),
        serial_number: outcome(t).serialNumber ?? null,
        provider_code: outcome(t).code ?? null,
        sisa_saldo: sisa.get(t.trx_id) ?? t.sisa_saldo,
        checks: t.checks + 1,
      }));
      await sql`
        UPDATE ppob_transactions t SET status = v.status, hasil_eksekusi = v.hasil, serial_number = v.sn,
          provider_code = v.code, sisa_saldo = v.sisa, checks = t.checks + 1, finished_at = ${at},
          next_check_at = NULL
        FROM unnest(${done.map((t) => t.id)}::bigint[], ${done.map((t) => t.status)}::text[],
          ${done.map((t) => t.hasil_eksekusi)}::text[], ${done.map((t) => t.serial_number)}::text[],
          ${done.map((t) => t.provider_code)}::text[], ${done.map((t) => t.sisa_saldo)}::bigint[])
          AS v (id, status, hasil, sn, code, sisa)
        WHERE t.id = v.id`.execute(trx);
      const urls = new Map(
        (
          await trx
            .selectFrom('ppob_profiles')
            .select(['account_id', 'callback_url'])
            .where('account_id', 'in', [...new Set(done.map((t) => t.account_id))])
            .where('callback_url', 'is not', null)
            .execute()
        ).map((p) => [p.account_id, p.callback_url as string]),
      );
      for (const t of done) {
        const url = urls.get(t.account_id);
        if (url) await queueClientCallback(trx, t, url);
      }
    });
    return items.map((x) => outcomes.get(x.trxId) ?? 'unchanged');
  }
  const record = async (trxId: string, result: ProviderResult, via: Executor = db): Promise<Recorded> =>
    (await recordMany([{ trxId, result }], via))[0] as Recorded;

  const results = createBatcher<{ trxId: string; result: ProviderResult }, void>({
    maxSize: 64,
    concurrency: 2,
    single: async (x) => {
      await record(x.trxId, x.result, core.database.worker);
    },
    batch: async (xs) => (await recordMany(xs)).map(() => ({ status: 'fulfilled', value: undefined })),
    onRun: (size) => core.metrics.batchSize.observe({ name: 'ppob.result' }, size),
    onBatchError: (err, size) => {
      core.metrics.batchFallbacks.inc({ name: 'ppob.result' });
      core.logger.warn({ err, size }, 'ppob result batch failed; its results are recorded one by one');
    },
  });

  async function postOrFail(trx: Executor, kind: string, reference: string, postings: Posting[]) {
    const res = await post(trx, { kind, reference, at: now() }, postings);
    if (res.ok) return res.balances;
    if (res.reason === 'insufficient') throw new AppError('INSUFFICIENT_BALANCE', 'Saldo tidak mencukupi');
    throw new Error(`journal ${kind}/${reference} was already posted`);
  }

  // ---- client callbacks (Standard Webhooks) ----
  /** Queues the signed POST of a final status to the reseller's callback `url`, in the caller's transaction. */
  async function queueClientCallback(trx: Trx, t: repo.PpobTransaction, url: string) {
    const webhookId = `msg_${t.trx_id}_${t.status}`;
    const payload = {
      type: `transaksi.${t.status}`,
      timestamp: now().toISOString(),
      data: {
        trx_id: t.trx_id,
        kode_produk: t.kode_produk,
        nomor_tujuan: t.nomor_tujuan,
        status: t.status,
        hasil_eksekusi: t.hasil_eksekusi,
        nominal: t.harga,
        sisa_saldo: t.sisa_saldo,
        waktu: new Date(t.waktu).toISOString(),
      },
    };
    const row = await trx
      .insertInto('ppob_callbacks')
      .values({
        account_id: t.account_id,
        trx_id: t.trx_id,
        url,
        webhook_id: webhookId,
        payload: JSON.stringify(payload),
        created_at: now(),
      })
      .onConflict((oc) => oc.column('webhook_id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (row) await core.jobs.enqueue(trx, 'ppob.client-callback', { id: row.id });
  }

  async function deliverCallback(id: number): Promise<void> {
    const cb = await db.selectFrom('ppob_callbacks').selectAll().where('id', '=', id).executeTakeFirst();
    if (!cb || cb.delivered_at) return;
    const secret = await core.identity.apiKeys.privateKey(db, cb.account_id, MODULE);
    if (!secret) return; // the reseller has no live key pair any more: nothing to sign with
    const body = JSON.stringify(cb.payload);
    const timestamp = Math.floor(now().getTime() / 1000).toString();
    const signature = createHmac('sha256', secret).update(`${cb.webhook_id}.${timestamp}.${body}`).digest('base64');
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(cb.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Loket-PPOB-Callback/1',
          'webhook-id': cb.webhook_id,
          'webhook-timestamp': timestamp,
          'webhook-signature': `v1,${signature}`,
        },
        body,
        signal: AbortSignal.timeout(10_000),
        redirect: 'manual',
      });
      status = res.status;
      await res.body?.cancel();
    } catch (err) {
      error = (err as Error).message.slice(0, 300);
    }
    const ok = status !== null && status >= 200 && status < 300;
    await db
      .updateTable('ppob_callbacks')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        last_status: status,
        last_error: error,
        delivered_at: ok ? now() : null,
      }))
      .where('id', '=', id)
      .execute();
    if (!ok) throw new Error(`callback ${cb.webhook_id} not accepted (${status ?? error})`);
  }

  // ---- the provider calls: each pending purchase row is due at `next_check_at` (see dispatcher.ts) ----
  // A claimed row is leased for twice the provider timeout: long enough for the call to finish, short enough that a
  // purchase left behind by a killed instance is taken up again soon.
  const leaseMs = Math.max(2 * core.config.ppobProviderTimeoutMs, 1_000);
  const dispatcher = createDispatcher<repo.PpobTransaction>({
    concurrency: core.config.ppobDispatchConcurrency,
    pollMs: core.config.jobPollSeconds * 1000,
    logger: core.logger,
    claim: async (limit) => {
      const at = now();
      const rows = await sql<repo.PpobTransaction>`
        UPDATE ppob_transactions SET next_check_at = ${new Date(at.getTime() + leaseMs)}
        WHERE id IN (
          SELECT id FROM ppob_transactions
          WHERE status = 'pending' AND next_check_at <= ${at}
          ORDER BY next_check_at LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
        RETURNING *`.execute(core.database.worker);
      return rows.rows;
    },
    nextDueInMs: async () => {
      const row = await core.database.worker
        .selectFrom('ppob_transactions')
        .select((eb) => eb.fn.min('next_check_at').as('due'))
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return row?.due ? new Date(row.due).getTime() - now().getTime() : undefined;
    },
    handle: async (t) => {
      const sku =
        (await products()).byId.get(t.produk_id)?.provider_sku ??
        (
          await core.database.worker
            .selectFrom('ppob_products')
            .select('provider_sku')
            .where('id', '=', t.produk_id)
            .executeTakeFirst()
        )?.provider_sku;
      const request = { refId: t.trx_id, sku: sku ?? t.kode_produk, customerNo: t.nomor_tujuan };
      // The first call submits; later ones ask again. Resending the same ref_id never buys twice.
      const result = t.checks === 0 ? await provider.purchase(request) : await provider.check(request);
      await results.submit({ trxId: t.trx_id, result });
    },
  });

  // ---- purchases: the debit and the purchase row in one statement, alone or batched ----
  const purchaseJournal = (p: Purchase, clearingRow: number) => [
    { account: wallet(p.accountId), amount: -p.product.harga },
    { account: CLEARING, amount: p.product.harga, shard: clearingRow },
  ];
  const insufficient = () => new AppError('INSUFFICIENT_BALANCE', 'Saldo tidak mencukupi');

  /** One purchase, one statement. Not enough balance fails the statement, so nothing at all is written. */
  async function purchaseOne(q: Executor, p: Purchase): Promise<number> {
    const clearingRow = nextClearingRow();
    const { call, codes } = postingCall(
      { kind: 'ppob.purchase', reference: p.trxId, at: p.at },
      purchaseJournal(p, clearingRow),
    );
    const walletIndex = codes.indexOf(walletCode(MODULE, p.accountId)) + 1; // SQL arrays count from 1
    try {
      const row = (
        await sql<{ sisa_saldo: string }>`
          WITH posted AS (SELECT * FROM ${call})
          INSERT INTO ppob_transactions (trx_id, account_id, produk_id, kode_produk, nomor_tujuan, hasil_eksekusi,
            nama_produk, nama_user, email_user, harga, sisa_saldo, provider, waktu, next_check_at, clearing_shard)
          SELECT ${p.trxId}, a.id, ${p.product.id}, ${p.product.kode_produk}, ${p.nomorTujuan},
            'Transaksi sedang diproses', ${p.product.nama}, a.name, a.email, ${p.product.harga},
            posted.out_balances[${walletIndex}], ${provider.name}, ${p.at}, ${p.at}, ${clearingRow}::smallint
          FROM posted JOIN accounts a ON a.id = ${p.accountId}
          WHERE posted.out_journal IS NOT NULL
          RETURNING sisa_saldo`.execute(q)
      ).rows[0];
      if (!row) throw new Error(`purchase ${p.trxId} was not recorded`);
      return Number(row.sisa_saldo);
    } catch (err) {
      if (isInsufficient(err)) throw insufficient();
      throw err;
    }
  }

  /**
   * Many purchases, one statement and one commit (`ledger_post_many`): each is posted and recorded whole or, when
   * its wallet is short, not at all, without failing the others.
   */
  async function purchaseMany(ps: Purchase[]): Promise<PromiseSettledResult<number>[]> {
    const at = ps[0]?.at ?? now();
    const clearingRow = nextClearingRow();
    const { call, codes } = postingBatchCall(
      'ppob.purchase',
      at,
      ps.map((p) => ({ reference: p.trxId, postings: purchaseJournal(p, clearingRow) })),
    );
    const walletIndex = ps.map((p, i) => (codes[i] as string[]).indexOf(walletCode(MODULE, p.accountId)) + 1);
    const rows = (
      await sql<{ i: number; reason: string; sisa: string | null; recorded: string }>`
        WITH posted AS (SELECT * FROM ${call}),
        items AS (
          SELECT * FROM unnest(${ps.map((p) => p.trxId)}::text[], ${ps.map((p) => p.accountId)}::bigint[],
            ${ps.map((p) => p.product.id)}::bigint[], ${ps.map((p) => p.product.kode_produk)}::text[],
            ${ps.map((p) => p.nomorTujuan)}::text[], ${ps.map((p) => p.product.nama)}::text[],
            ${ps.map((p) => p.product.harga)}::bigint[], ${walletIndex}::int[], ${ps.map((p) => p.at)}::timestamptz[])
            WITH ORDINALITY AS i (trx_id, account_id, produk_id, kode_produk, nomor_tujuan, nama_produk, harga, w, at, ord)
        ),
        recorded AS (
          INSERT INTO ppob_transactions (trx_id, account_id, produk_id, kode_produk, nomor_tujuan, hasil_eksekusi,
            nama_produk, nama_user, email_user, harga, sisa_saldo, provider, waktu, next_check_at, clearing_shard)
          SELECT i.trx_id, a.id, i.produk_id, i.kode_produk, i.nomor_tujuan, 'Transaksi sedang diproses',
            i.nama_produk, a.name, a.email, i.harga, p.out_balances[i.w], ${provider.name}, i.at, i.at, ${clearingRow}::smallint
          FROM posted p JOIN items i ON i.ord = p.out_index JOIN accounts a ON a.id = i.account_id
          WHERE p.out_reason = 'ok'
          RETURNING trx_id
        )
        SELECT p.out_index AS i, p.out_reason AS reason, p.out_balances[i.w] AS sisa,
          (SELECT count(*) FROM recorded) AS recorded
        FROM posted p JOIN items i ON i.ord = p.out_index
        ORDER BY p.out_index`.execute(db)
    ).rows;
    const ok = rows.filter((r) => r.reason === 'ok').length;
    if (rows.length !== ps.length || Number(rows[0]?.recorded ?? 0) !== ok) {
      throw new Error(`purchase batch recorded ${rows[0]?.recorded ?? 0} of ${ok} posted journals`);
    }
    return rows.map((r, i): PromiseSettledResult<number> => {
      if (r.reason === 'ok') return { status: 'fulfilled', value: Number(r.sisa) };
      if (r.reason === 'insufficient') return { status: 'rejected', reason: insufficient() };
      return { status: 'rejected', reason: new Error(`purchase ${ps[i]?.trxId} was already posted`) };
    });
  }

  const purchases = createBatcher<Purchase, number>({
    maxSize: 50,
    concurrency: 2,
    single: (p) => purchaseOne(db, p),
    batch: purchaseMany,
    onRun: (size) => core.metrics.batchSize.observe({ name: 'ppob.purchase' }, size),
    onBatchError: (err, size) => {
      core.metrics.batchFallbacks.inc({ name: 'ppob.purchase' });
      core.logger.warn({ err, size }, 'ppob purchase batch failed; its purchases run one by one');
    },
  });

  const purchaseResponse = (p: Purchase, sisa: number): StoredResponse => ({
    status: 200,
    body: {
      code: 200,
      status: 'success',
      message: 'Transaksi berhasil dibuat',
      data: {
        id: p.trxId,
        'kode-produk': p.product.kode_produk,
        'nomor-tujuan': p.nomorTujuan,
        'nama-produk': p.product.nama,
        status: 'pending',
        harga: p.product.harga,
        sisa_saldo: sisa,
        info: 'Proses transaksi sedang berjalan, cek status untuk hasilnya.',
      },
    },
  });

  core.jobs.define<{ id: number }>({
    name: 'ppob.client-callback',
    retryLimit: 8,
    retryDelay: 10,
    handler: async (job) => deliverCallback(job.data.id),
  });

  // Top-ups: the payments core tells us, inside its transaction, when a deposit's QRIS payment changed.
  core.payments.register(MODULE, async (trx: Trx, intent: PaymentIntent) => {
    const dep = await trx
      .selectFrom('ppob_deposits')
      .selectAll()
      .where('deposit_id', '=', intent.reference)
      .forUpdate()
      .executeTakeFirst();
    if (dep?.status !== 'PENDING') return;
    if (intent.status === 'COMPLETED') {
      await postOrFail(trx, 'ppob.deposit', dep.deposit_id, [
        { account: CASH_QRIS, amount: -dep.nominal },
        { account: wallet(dep.account_id), amount: dep.nominal },
      ]);
    }
    await trx
      .updateTable('ppob_deposits')
      .set({ status: intent.status, paid_at: intent.status === 'COMPLETED' ? (intent.paid_at ?? now()) : null })
      .where('id', '=', dep.id)
      .execute();
  });

  return {
    provider,
    record,
    dispatcher,

    async register(input: { nama: string; email: string; hp?: string }, origin: RequestOrigin) {
      const email = input.email.trim().toLowerCase();
      let account = await findByLogin(db, email);
      if (account) {
        const profile = await repo.profileOf(db, account.id);
        if (profile?.is_verified) throw new AppError('CONFLICT', 'Email sudah terdaftar.');
      } else {
        await core.identity.service.createAccount(
          { email, name: input.nama.trim(), phone: input.hp ?? null, memberships: { [MODULE]: 1 } },
          null,
          origin,
        );
        account = await findByLogin(db, email);
      }
      const accountId = account!.id;
      await withTransaction(db, async (trx) => {
        await trx
          .insertInto('ppob_profiles')
          .values({ account_id: accountId, hp: input.hp ?? null, updated_at: now() })
          .onConflict((oc) => oc.column('account_id').doUpdateSet({ hp: input.hp ?? null, updated_at: now() }))
          .execute();
        await core.identity.otp.issue(trx, OTP_PURPOSE, email, {
          channel: 'email',
          to: email,
          subject: 'Kode OTP registrasi PPOB',
          body: (code) =>
            `Halo ${input.nama.trim()},\n\nKode OTP Anda: ${code}\nBerlaku 5 menit. Jangan berikan kode ini kepada siapa pun.`,
        });
      });
    },

    async verifyOtp(emailRaw: string, code: string) {
      const email = emailRaw.trim().toLowerCase();
      const account = await findByLogin(db, email);
      const profile = account ? await repo.profileOf(db, account.id) : undefined;
      if (!account || !profile) throw new AppError('NOT_FOUND', 'Email belum terdaftar. Silakan /register dahulu.');
      if (profile.is_verified)
        throw new AppError('CONFLICT', 'Akun sudah terverifikasi. Gunakan /generate-key untuk kunci baru.');
      const check = await core.identity.otp.verify(OTP_PURPOSE, email, code.trim());
      if (!check.ok) {
        if (check.reason === 'locked')
          throw new AppError('RATE_LIMITED', 'Terlalu banyak percobaan OTP salah. Minta OTP baru lewat /register.');
        if (check.reason === 'wrong') throw new AppError('BAD_REQUEST', 'OTP salah.');
        throw new AppError('BAD_REQUEST', 'OTP tidak ditemukan atau sudah kedaluwarsa.');
      }
      const keys = await withTransaction(db, async (trx) => {
        await trx
          .updateTable('ppob_profiles')
          .set({ is_verified: true, updated_at: now() })
          .where('account_id', '=', account.id)
          .execute();
        return core.identity.apiKeys.issue(trx, account.id, MODULE);
      });
      await core.identity.apiKeys.announce(keys.revokedHashes);
      return keys;
    },

    async rotateKeys(accountId: number) {
      const keys = await withTransaction(db, (trx) => core.identity.apiKeys.issue(trx, accountId, MODULE));
      await core.identity.apiKeys.announce(keys.revokedHashes);
      return keys;
    },

    products: async () => (await products()).products,
    /** The active products when the cache holds them, without a promise; undefined when they must be read. */
    cachedProducts: () => freshCatalogue()?.products,
    productByCode: async (kode: string) => (await products()).byCode.get(kode),

    /**
     * One statement: the ledger journal (conditional wallet debit, clearing credit) and the purchase row, due for
     * the dispatcher at once. Without an Idempotency-Key it goes through the purchase batcher, which joins purchases
     * that arrive together into one statement and commit; with one, it runs in the claim's transaction.
     */
    async buy(accountId: number, input: { kode_produk: string; nomor_tujuan: string }, idempotencyKey?: string) {
      const run = async (claim: Claim | undefined): Promise<StoredResponse> => {
        const product = (await products()).byCode.get(input.kode_produk);
        if (!product) throw new AppError('NOT_FOUND', 'Produk tidak ditemukan');
        const purchase: Purchase = {
          accountId,
          product,
          nomorTujuan: input.nomor_tujuan,
          trxId: newId(core.config.ppobTrxPrefix, 20),
          at: now(),
        };
        const sisa = claim
          ? await withTransaction(db, async (trx) => {
              const s = await purchaseOne(trx, purchase);
              await claim.complete(trx, purchaseResponse(purchase, s));
              return s;
            })
          : await purchases.submit(purchase);
        dispatcher.kick();
        return purchaseResponse(purchase, sisa);
      };
      if (!idempotencyKey) return run(undefined);
      return runIdempotent(db, { accountId, name: 'ppob.beli', key: idempotencyKey, body: input, now: now() }, run);
    },

    /** The house accounts purchase and result batches credit, created before the first batch (`ensureAccounts`). */
    prepareLedger: () => ensureAccounts(db, [CLEARING, REVENUE]),

    status: (accountId: number, trxId: string) => repo.transactionOf(db, accountId, trxId),
    history: (accountId: number) => repo.history(db, accountId),
    balance: (accountId: number) => balanceOf(db, walletCode(MODULE, accountId)),
    profile: (accountId: number) => repo.profileOf(db, accountId),

    async setCallbackUrl(accountId: number, url: string) {
      if (core.config.env === 'production' && !url.startsWith('https://')) {
        throw new AppError('VALIDATION_ERROR', 'URL callback harus https', { details: { url: ['must use https'] } });
      }
      await db
        .updateTable('ppob_profiles')
        .set({ callback_url: url, updated_at: now() })
        .where('account_id', '=', accountId)
        .execute();
    },

    callbackLog: (accountId: number) =>
      db
        .selectFrom('ppob_callbacks')
        .select(['webhook_id', 'trx_id', 'url', 'attempts', 'last_status', 'last_error', 'delivered_at', 'created_at'])
        .where('account_id', '=', accountId)
        .orderBy('id', 'desc')
        .limit(100)
        .execute(),

    async createDeposit(accountId: number, nominal: number, idempotencyKey?: string) {
      const run = async (claim: Claim | undefined): Promise<StoredResponse> => {
        const depositId = newId('DEP', 24);
        await db
          .insertInto('ppob_deposits')
          .values({ deposit_id: depositId, account_id: accountId, nominal, created_at: now() })
          .execute();
        const intent = await core.payments.createQr({
          module: MODULE,
          reference: depositId,
          amount: nominal,
          ttlMs: DEPOSIT_TTL_MS,
        });
        const response: StoredResponse = {
          status: 201,
          body: {
            code: 201,
            status: 'success',
            message: 'Silakan bayar QRIS berikut; saldo bertambah setelah pembayaran diterima.',
            data: depositView(
              { deposit_id: depositId, nominal, status: 'PENDING', created_at: now(), paid_at: null },
              intent,
            ),
          },
        };
        if (claim) await claim.complete(db, response);
        return response;
      };
      if (!idempotencyKey) return run(undefined);
      return runIdempotent(
        db,
        { accountId, name: 'ppob.deposit', key: idempotencyKey, body: { nominal }, now: now() },
        run,
      );
    },

    async deposit(accountId: number, depositId: string) {
      const dep = await db
        .selectFrom('ppob_deposits')
        .selectAll()
        .where('deposit_id', '=', depositId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      if (!dep) return undefined;
      return depositView(dep, await core.payments.find(depositId));
    },

    // ---- admin ----
    listAllProducts: () => db.selectFrom('ppob_products').selectAll().orderBy('id').execute(),

    async createProduct(v: ProductInput, actor: number, origin: RequestOrigin) {
      const row = await withTransaction(db, async (trx) => {
        const p = await trx
          .insertInto('ppob_products')
          .values({ ...v, updated_at: now() })
          .returningAll()
          .executeTakeFirstOrThrow();
        await recordActivity(
          trx,
          { accountId: actor, action: 'ppob.product.created', objectType: 'ppob.product', objectId: p.id, after: p },
          origin,
          now(),
        );
        return p;
      });
      await productsChanged();
      return row;
    },

    async updateProduct(id: number, v: Partial<ProductInput>, actor: number, origin: RequestOrigin) {
      const row = await withTransaction(db, async (trx) => {
        const before = await trx.selectFrom('ppob_products').selectAll().where('id', '=', id).executeTakeFirst();
        if (!before) throw new AppError('NOT_FOUND', 'Produk tidak ditemukan');
        const p = await trx
          .updateTable('ppob_products')
          .set({ ...v, updated_at: now() })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await recordActivity(
          trx,
          {
            accountId: actor,
            action: 'ppob.product.updated',
            objectType: 'ppob.product',
            objectId: id,
            before,
            after: v,
          },
          origin,
          now(),
        );
        return p;
      });
      await productsChanged();
      return row;
    },

    /**
     * Brings the provider's price list (Digiflazz `/v1/price-list`, `cmd: prepaid`) into the catalogue, matched by
     * `provider_sku`: a new SKU becomes a product at the provider's price; a known one takes the provider's name,
     * category, brand, description and availability, and its price is raised to the provider's price when it was
     * lower (never sold at a loss; a margin set by an admin stays); a SKU the provider no longer lists is
     * deactivated. One transaction, one activity-log entry.
     */
    async syncPriceList(actor: number | null, origin: RequestOrigin) {
      const list = await provider.priceList();
      const valid = list.filter((p) => /^[A-Za-z0-9_.-]{1,20}$/.test(p.sku) && p.price > 0 && p.name.trim() !== '');
      const result = await withTransaction(db, async (trx) => {
        // Locked for this transaction, so an admin's change that commits meanwhile is read, not overwritten. (No
        // key update: purchases referencing a product still go on.)
        const existing = await trx.selectFrom('ppob_products').selectAll().forNoKeyUpdate().execute();
        const bySku = new Map(existing.filter((p) => p.provider_sku).map((p) => [p.provider_sku as string, p]));
        const byCode = new Map(existing.map((p) => [p.kode_produk, p]));
        let created = 0;
        let updated = 0;
        let deactivated = 0;
        const seen = new Set<string>();
        for (const item of valid) {
          seen.add(item.sku);
          const fields = {
            nama: item.name.slice(0, 50),
            kategori: item.category.slice(0, 50) || null,
            brand: item.brand.slice(0, 50) || null,
            deskripsi: item.description || null,
            aktif: item.active,
          };
          const known = bySku.get(item.sku);
          if (known) {
            const harga = Math.max(known.harga, item.price);
            const same =
              known.nama === fields.nama &&
              known.kategori === fields.kategori &&
              known.brand === fields.brand &&
              known.deskripsi === fields.deskripsi &&
              known.aktif === fields.aktif &&
              known.harga === harga;
            if (same) continue;
            await trx
              .updateTable('ppob_products')
              .set({ ...fields, harga, updated_at: now() })
              .where('id', '=', known.id)
              .execute();
            updated++;
          } else if (!byCode.has(item.sku)) {
            await trx
              .insertInto('ppob_products')
              .values({
                ...fields,
                kode_produk: item.sku,
                provider_sku: item.sku,
                harga: item.price,
                updated_at: now(),
              })
              .execute();
            created++;
          }
        }
        for (const p of bySku.values()) {
          if (seen.has(p.provider_sku as string) || !p.aktif) continue;
          await trx
            .updateTable('ppob_products')
            .set({ aktif: false, updated_at: now() })
            .where('id', '=', p.id)
            .execute();
          deactivated++;
        }
        const summary = { listed: list.length, skipped: list.length - valid.length, created, updated, deactivated };
        await recordActivity(
          trx,
          {
            accountId: actor,
            action: 'ppob.products.synced',
            objectType: 'ppob.product',
            objectId: provider.name,
            after: summary,
          },
          origin,
          now(),
        );
        return summary;
      });
      await productsChanged();
      return result;
    },

    /** A product that was ever sold is deactivated instead of deleted, so history keeps its name. */
    async deleteProduct(id: number, actor: number, origin: RequestOrigin) {
      const result = await withTransaction(db, async (trx) => {
        const before = await trx.selectFrom('ppob_products').selectAll().where('id', '=', id).executeTakeFirst();
        if (!before) throw new AppError('NOT_FOUND', 'Produk tidak ditemukan');
        const sold = await trx
          .selectFrom('ppob_transactions')
          .select('id')
          .where('produk_id', '=', id)
          .limit(1)
          .executeTakeFirst();
        if (sold)
          await trx
            .updateTable('ppob_products')
            .set({ aktif: false, updated_at: now() })
            .where('id', '=', id)
            .execute();
        else await trx.deleteFrom('ppob_products').where('id', '=', id).execute();
        await recordActivity(
          trx,
          {
            accountId: actor,
            action: sold ? 'ppob.product.deactivated' : 'ppob.product.deleted',
            objectType: 'ppob.product',
            objectId: id,
            before,
          },
          origin,
          now(),
        );
        return sold ? 'deactivated' : 'deleted';
      });
      await productsChanged();
      return result;
    },

    async adjustBalance(
      input: { email: string; amount: number; reason: string },
      actor: number,
      origin: RequestOrigin,
    ) {
      const account = await findByLogin(db, input.email);
      if (!account || !(await repo.profileOf(db, account.id)))
        throw new AppError('NOT_FOUND', 'Akun PPOB dengan email ini tidak ditemukan');
      const reference = `ADJ-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
      return withTransaction(db, async (trx) => {
        const balances = await postOrFail(trx, 'ppob.adjustment', reference, [
          { account: wallet(account.id), amount: input.amount },
          { account: ADJUSTMENTS, amount: -input.amount },
        ]);
        const saldo = balances.get(walletCode(MODULE, account.id)) ?? 0;
        await recordActivity(
          trx,
          {
            accountId: actor,
            action: 'ppob.balance.adjusted',
            objectType: 'account',
            objectId: account.id,
            after: { amount: input.amount, reason: input.reason, saldo, reference },
          },
          origin,
          now(),
        );
        return { reference, email: account.email, amount: input.amount, saldo };
      });
    },

    /** Pending purchases older than a minute get their job again (for example after a restart lost a timer). */
  };
}

export interface ProductInput {
  kode_produk: string;
  nama: string;
  harga: number;
  deskripsi?: string | null;
  plp?: string | null;
  plp_nomor?: string | null;
  provider_sku?: string | null;
  kategori?: string | null;
  brand?: string | null;
  aktif?: boolean;
}

function depositView(
  dep: {
    deposit_id: string;
    nominal: number;
    status: string;
    created_at: Date | string;
    paid_at: Date | string | null;
  },
  intent: PaymentIntent | undefined,
) {
  return {
    id: dep.deposit_id,
    nominal: dep.nominal,
    status: intent?.status ?? dep.status,
    qris_string: intent?.qr_string ?? null,
    qr_image_url: intent?.qr_string ? `/payments/${dep.deposit_id}/qr.png` : null,
    expired_at: intent?.expires_at ? new Date(intent.expires_at).toISOString() : null,
    paid_at: dep.paid_at ? new Date(dep.paid_at).toISOString() : null,
    created_at: new Date(dep.created_at).toISOString(),
  };
}

export type PpobService = ReturnType<typeof createPpobService>;
