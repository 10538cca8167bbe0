// A purchase: the package, a verified operator session for the account's current number, then the purchase row and
// its first step in one transaction (one open purchase per package and account). The pipeline runs in `step.ts`.
import { randomBytes } from 'node:crypto';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { findPackage, findSession, insertTransaction } from '../repo.ts';
import { packageDetail, packageView, statusName } from '../views.ts';
import type { Im3Deps } from '../wire.ts';
import { isUniqueViolation, mustAccount, VERIFY_FIRST } from './common.ts';
import { STEP_JOB, stepAfter } from './step.ts';

export async function purchase(
  deps: Pick<Im3Deps, 'db' | 'identity' | 'jobs' | 'operator' | 'now' | 'config'>,
  accountId: number,
  packageId: number,
) {
  const { db } = deps;
  const pkg = await findPackage(db, packageId);
  if (!pkg) throw new AppError('PACKAGE_NOT_FOUND', 'Package not found');
  const session = await findSession(db, accountId);
  // The session belongs to the number it was verified for; a number changed since needs a new OTP.
  if (!session?.session_sealed || session.phone !== (await mustAccount(deps, accountId)).phone) {
    throw new AppError('BUSINESS_LOGIC_ERROR', VERIFY_FIRST);
  }
  const taskId = `im3-${randomBytes(8).toString('hex')}`;
  try {
    const tx = await withTransaction(db, async (trx) => {
      const row = await insertTransaction(
        trx,
        {
          account_id: accountId,
          package_id: pkg.id,
          task_id: taskId,
          phone: session.phone,
          amount: pkg.discount_price,
        },
        deps.now(),
      );
      await deps.jobs.enqueue(trx, STEP_JOB, { id: row.id }, { startAfter: stepAfter(deps.operator.stepMs) });
      return row;
    });
    return {
      transaction_id: tx.id,
      task_id: tx.task_id,
      package_detail: packageDetail(pkg),
      package: packageView(pkg),
      message: 'Transaction is being processed',
      status: statusName(tx.status, deps.config.im3StatusNames),
    };
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('CONFLICT', 'You already have an open purchase of this package');
    throw err;
  }
}
