// What a polling kiosk is told about its transaction: from memory most of the time (status-cache.ts), from the
// database otherwise, and never a copy read before a status change that has since committed.
import { AppError } from '../../../core/http/errors.ts';
import { MESSAGES } from '../messages.ts';
import * as repo from '../repo/index.ts';
import { type StatusView, statusView } from '../views.ts';
import type { PhotoboxDeps } from '../wire.ts';

export async function transactionStatus(
  deps: Pick<PhotoboxDeps, 'pool' | 'polls' | 'pollCounter'>,
  externalId: string,
): Promise<StatusView> {
  const { polls } = deps;
  const cached = polls.get(externalId);
  if (cached) {
    deps.pollCounter.hit();
    return cached;
  }
  deps.pollCounter.miss();
  const begun = polls.begin();
  const tr = await repo.pollRow(deps.pool, externalId);
  if (!tr) throw new AppError('NOT_FOUND', MESSAGES.transactionNotFound);
  const view = statusView(tr);
  polls.store(externalId, view, tr.tr_status !== 'PENDING', begun);
  return view;
}
