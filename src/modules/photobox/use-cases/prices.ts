// Prices, with an optional quota of sessions; a price that transactions used is deactivated instead of deleted, so
// they keep pointing at it. The resource helper runs each change in one transaction with its activity entry.
import type { Executor } from '../../../core/db/tables.ts';
import { AppError } from '../../../core/http/errors.ts';
import { MESSAGES } from '../messages.ts';
import * as repo from '../repo/index.ts';

/** The price with its use, read again through `trx` after a change. */
async function reread(trx: Executor, id: number, now: Date): Promise<repo.PriceWithUse> {
  const row = await repo.getPrice(trx, id, now);
  if (!row) throw new AppError('NOT_FOUND', MESSAGES.priceNotFound);
  return row;
}

export async function createPrice(
  trx: Executor,
  v: Partial<repo.PriceFields> & { mp_name: string; mp_amount: number },
  now: Date,
) {
  const row = await repo.insertPrice(
    trx,
    {
      mp_name: v.mp_name.trim(),
      mp_amount: v.mp_amount,
      mp_quota: v.mp_quota ?? null,
      mp_is_active: v.mp_is_active ?? true,
    },
    now,
  );
  return reread(trx, row.mp_id, now);
}

/** PUT with the fields it is given; the others stay as they are. */
export async function updatePrice(trx: Executor, id: number, v: Partial<repo.PriceFields>, now: Date) {
  await repo.updatePrice(trx, id, { ...v, ...(v.mp_name !== undefined ? { mp_name: v.mp_name.trim() } : {}) }, now);
  return reread(trx, id, now);
}

export async function removePrice(trx: Executor, id: number, before: repo.PriceWithUse, now: Date) {
  if (await repo.priceHasTransactions(trx, id)) {
    await repo.updatePrice(trx, id, { mp_is_active: false }, now);
    return { row: await reread(trx, id, now), outcome: 'deactivated' as const };
  }
  await repo.deletePrice(trx, id);
  return { row: before, outcome: 'deleted' as const };
}
