// With Digiflazz, the provider's price list is brought into the catalogue every hour (as an admin can at any time).
import type { JobDefinition } from '../../../core/jobs/jobs.ts';
import { syncPriceList } from '../use-cases/price-sync.ts';
import type { PpobDeps } from '../wire.ts';

export const priceSyncJob = (d: Pick<PpobDeps, 'db' | 'now' | 'provider' | 'catalogue'>): JobDefinition<object> => ({
  name: 'ppob.price-sync',
  cron: '17 * * * *',
  handler: async () => void (await syncPriceList(d, null, { requestId: null, ip: null })),
});
