// Builds the PPOB module's dependencies once: the provider, the catalogue cache, the rotating house-account rows,
// the purchase and result batchers, the dispatcher, and the deposit hook into the payments core.
import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type Batcher, createBatcher } from '../../core/batcher.ts';
import type { Core } from '../../core/context.ts';
import type { Tables } from '../../core/db/tables.ts';
import { type Catalogue, createCatalogue } from './catalogue.ts';
import { createPurchaseDispatcher } from './jobs/dispatch.ts';
import type { Dispatcher } from './jobs/dispatcher.ts';
import { CLEARING, MODULE, REVENUE } from './ledger.ts';
import type { PpobProvider, ProviderResult } from './providers/provider.ts';
import { createSimulatorProvider } from './providers/simulator.ts';
import type { Purchase } from './repo/purchases.ts';
import { purchaseMany, purchaseOne } from './use-cases/buy.ts';
import { depositPaid } from './use-cases/deposit.ts';
import { record, recordMany } from './use-cases/record-results.ts';

export type PpobCore = Pick<
  Core,
  | 'database'
  | 'jobs'
  | 'identity'
  | 'payments'
  | 'outbox'
  | 'now'
  | 'config'
  | 'logger'
  | 'bus'
  | 'metrics'
  | 'outbound'
>;

export interface ProviderAnswer {
  trxId: string;
  result: ProviderResult;
}

export interface PpobDeps {
  core: PpobCore;
  db: Kysely<Tables>;
  now: () => Date;
  provider: PpobProvider;
  catalogue: Catalogue;
  /**
   * House rows for statements written together: each purchase statement (alone or batched) posts to the next
   * clearing row and each recording of provider answers credits the next revenue row, so statements in flight at
   * the same time lock different rows instead of queueing on rows that all of them touch. Each instance starts at a
   * random row. A purchase keeps its row (`clearing_shard`) for its settlement or refund.
   */
  nextClearingRow: () => number;
  nextRevenueRow: () => number;
  /** Purchases that arrive together are written in one statement and commit. */
  purchases: Batcher<Purchase, number>;
  /** Provider answers that arrive together are recorded in one transaction. */
  results: Batcher<ProviderAnswer, void>;
  dispatcher: Dispatcher;
}

const rotation = (rows: number) => {
  let at = randomInt(rows);
  return () => {
    at = (at + 1) % rows;
    return at;
  };
};

export async function providerFor(config: Core['config']): Promise<PpobProvider> {
  if (config.ppobProvider !== 'digiflazz') return createSimulatorProvider();
  const { createDigiflazzProvider } = await import('./providers/digiflazz.ts');
  return createDigiflazzProvider({
    username: config.digiflazzUsername ?? '',
    apiKey: config.digiflazzApiKey ?? '',
    webhookSecret: config.digiflazzWebhookSecret,
    baseUrl: config.digiflazzBaseUrl,
    timeoutMs: config.ppobProviderTimeoutMs,
    testing: config.digiflazzTesting,
  });
}

export async function wirePpob(core: PpobCore): Promise<PpobDeps> {
  const { db } = core.database;
  const base = {
    core,
    db,
    now: () => core.now(),
    provider: await providerFor(core.config),
    catalogue: createCatalogue(db, core.bus),
    nextClearingRow: rotation(CLEARING.shards),
    nextRevenueRow: rotation(REVENUE.shards),
  };
  const { metrics, logger } = core;

  const purchases = createBatcher<Purchase, number>({
    maxSize: 50,
    concurrency: 2,
    single: (p) => purchaseOne(base, db, p),
    batch: (ps) => purchaseMany(base, ps),
    onRun: (size) => metrics.batchSize.observe({ name: 'ppob.purchase' }, size),
    onBatchError: (err, size) => {
      metrics.batchFallbacks.inc({ name: 'ppob.purchase' });
      logger.warn({ err, size }, 'ppob purchase batch failed; its purchases run one by one');
    },
  });

  const results = createBatcher<ProviderAnswer, void>({
    maxSize: 64,
    concurrency: 2,
    single: async (x) => {
      await record(base, x.trxId, x.result, core.database.worker);
    },
    batch: async (xs) => (await recordMany(base, xs)).map(() => ({ status: 'fulfilled', value: undefined })),
    onRun: (size) => metrics.batchSize.observe({ name: 'ppob.result' }, size),
    onBatchError: (err, size) => {
      metrics.batchFallbacks.inc({ name: 'ppob.result' });
      logger.warn({ err, size }, 'ppob result batch failed; its results are recorded one by one');
    },
  });

  const dispatcher = createPurchaseDispatcher({ ...base, results });

  // Top-ups: the payments core tells us, inside its transaction, when a deposit's QRIS payment changed.
  core.payments.register(MODULE, (trx, intent) => depositPaid(base, trx, intent));

  return { ...base, purchases, results, dispatcher };
}
