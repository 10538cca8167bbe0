// The daily cleanup: removes the stored files of expired galleries and marks their rows. A file that cannot be
// removed now is tried again by the job's retry (the error is thrown after the rest were done).
import type { JobDefinition } from '../../../core/jobs/jobs.ts';
import * as repo from '../repo/index.ts';
import type { PhotoboxDeps } from '../wire.ts';

export async function cleanupExpired(
  deps: Pick<PhotoboxDeps, 'db' | 'now' | 'store' | 'logger'>,
): Promise<{ removed: number; failed: number }> {
  const { db, now, store, logger } = deps;
  let removed = 0;
  let failed = 0;
  const skip = new Set<number>();
  for (;;) {
    const batch = (await repo.expiredPhotos(db, now(), 200 + skip.size)).filter((p) => !skip.has(p.ph_id));
    if (batch.length === 0) break;
    for (const p of batch) {
      try {
        await store.delete(p.ph_storage_key);
        await repo.markPhotoDeleted(db, p.ph_id, now());
        removed++;
      } catch (err) {
        failed++;
        skip.add(p.ph_id);
        logger.warn(
          { err: { message: err instanceof Error ? err.message : String(err) }, photo: p.ph_id },
          'expired photo not removed',
        );
      }
    }
  }
  if (removed > 0) logger.info({ removed }, 'expired photobox photos removed');
  if (failed > 0) throw new Error(`${failed} expired photo(s) could not be removed; the job will retry`);
  return { removed, failed };
}

/** Daily, at 02:30 UTC (09:30 WIB): files of expired galleries are removed. */
export const cleanupJob = (deps: PhotoboxDeps): JobDefinition<never> => ({
  name: 'photobox.cleanup',
  cron: '30 2 * * *',
  retryLimit: 5,
  retryDelay: 60,
  expireInSeconds: 3600,
  handler: async () => void (await cleanupExpired(deps)),
});
