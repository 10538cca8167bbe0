// The provider calls: each pending purchase row is due at `next_check_at` (see dispatcher.ts). The first call
// submits; later ones ask again. Resending the same ref_id never buys twice. Answers go to the result batcher.

import { providerSkuOf } from '../repo/products.ts';
import { claimDue, nextDue } from '../repo/purchases.ts';
import type { PpobTransaction } from '../repo/tables.ts';
import type { PpobDeps } from '../wire.ts';
import { createDispatcher, type Dispatcher } from './dispatcher.ts';

export function createPurchaseDispatcher(
  d: Pick<PpobDeps, 'core' | 'now' | 'provider' | 'catalogue' | 'results'>,
): Dispatcher {
  const { core, now, provider } = d;
  const worker = core.database.worker;
  // A claimed row is leased for twice the provider timeout: long enough for the call to finish, short enough that a
  // purchase left behind by a killed instance is taken up again soon.
  const leaseMs = Math.max(2 * core.config.ppobProviderTimeoutMs, 1_000);
  return createDispatcher<PpobTransaction>({
    concurrency: core.config.ppobDispatchConcurrency,
    pollMs: core.config.jobPollSeconds * 1000,
    logger: core.logger,
    claim: (limit) => {
      const at = now();
      return claimDue(worker, at, new Date(at.getTime() + leaseMs), limit);
    },
    nextDueInMs: async () => {
      const due = await nextDue(worker);
      return due ? due.getTime() - now().getTime() : undefined;
    },
    handle: async (t) => {
      const sku =
        (await d.catalogue.get()).byId.get(t.produk_id)?.provider_sku ?? (await providerSkuOf(worker, t.produk_id));
      const request = { refId: t.trx_id, sku: sku ?? t.kode_produk, customerNo: t.nomor_tujuan };
      const result = t.checks === 0 ? await provider.purchase(request) : await provider.check(request);
      await d.results.submit({ trxId: t.trx_id, result });
    },
  });
}
