// What a polling kiosk is told about its transaction: from memory most of the time (status-cache.ts), from the
// database otherwise, and never a copy read before a status change that has since committed. A PENDING transaction
// whose `tr_expired_at` has passed is EXPIRED from that instant: the read expires it through the payments core
// (what the minute sweep would do later), so a payment arriving afterwards is a late payment, as the kiosk was told.
import { AppError } from '../../../core/http/errors.ts';
import { MESSAGES } from '../messages.ts';
import * as repo from '../repo/index.ts';
import { type StatusView, statusView } from '../views.ts';
import type { PhotoboxDeps } from '../wire.ts';

export async function transactionStatus(
  deps: Pick<PhotoboxDeps, 'pool' | 'polls' | 'pollCounter' | 'payments' | 'now'>,
  externalId: string,
): Promise<StatusView> {
  const { polls } = deps;
  const nowMs = deps.now().getTime();
  const cached = polls.get(externalId);
  if (cached && !(cached.tr_status === 'PENDING' && Date.parse(cached.tr_expired_at) <= nowMs)) {
    deps.pollCounter.hit();
    return cached;
  }
  deps.pollCounter.miss();
  const begun = polls.begin();
  let tr = await repo.pollRow(deps.pool, externalId);
  if (!tr) throw new AppError('NOT_FOUND', MESSAGES.transactionNotFound);
  if (tr.tr_status === 'PENDING' && tr.tr_expired_at.getTime() <= nowMs) {
    await deps.payments.expireIfDue(externalId);
    tr = (await repo.pollRow(deps.pool, externalId)) ?? tr;
  }
  const view = statusView(tr);
  polls.store(externalId, view, tr.tr_status !== 'PENDING', begun);
  return view;
}
