// The purchase pipeline as one durable job (`im3.purchase.step`): its handler reads the purchase and does the step
// its status calls for. Each status write is conditional on the status it expects, so a cancel, a duplicate job or
// a worker that died and ran again cannot move a purchase backwards or twice. The next step is enqueued in the same
// transaction as the status it follows, so a restart continues exactly where the purchase stood.
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { JobContext, JobDefinition } from '../../../core/jobs/jobs.ts';
import { OperatorError, type PackageOrder } from '../providers/operator.ts';
import {
  FINAL,
  findPackage,
  findTransaction,
  type Im3Status,
  type Package,
  type Transaction,
  transition,
} from '../repo.ts';
import type { Im3Deps } from '../wire.ts';
import { operatorSession } from './common.ts';

export const STEP_JOB = 'im3.purchase.step';
export const STEP_RETRIES = 5;

type StepDeps = Pick<Im3Deps, 'db' | 'jobs' | 'config' | 'operator' | 'sealKey' | 'log' | 'now'>;
type Extra = Parameters<typeof transition>[5];

/** The step job's definition, for the module's `jobs()`. */
export function stepJob(deps: StepDeps): JobDefinition<{ id: number }> {
  return {
    name: STEP_JOB,
    handler: (job) => step(deps, job),
    retryLimit: STEP_RETRIES + 1,
    retryDelay: 2,
    expireInSeconds: Math.ceil(deps.config.im3TimeoutMs / 1000) * 3 + 60,
    concurrency: 4,
  };
}

/** When the next step may start, `ms` from now. */
export const stepAfter = (ms: number) => new Date(Date.now() + ms);

const orderOf = (tx: Transaction, pkg: Package): PackageOrder => ({
  pvrCode: pkg.pvr_code,
  keyword: pkg.keyword,
  discountPrice: tx.amount,
  normalPrice: pkg.normal_price,
  packageName: pkg.package_name,
  msisdn: tx.phone,
  reference: tx.task_id,
});

/** One step of a purchase; see the file's header. */
export async function step(deps: StepDeps, job: JobContext<{ id: number }>): Promise<void> {
  const { db, config, operator } = deps;
  const id = job.data.id;
  const at = () => deps.now();

  /** Moves `id` from `from` to `to` and enqueues the next step `delayMs` later, in one transaction. */
  const advance = (from: Im3Status, to: Im3Status, delayMs: number | null, extra: Extra = {}) =>
    withTransaction(db, async (trx) => {
      const moved = await transition(trx, id, from, to, at(), extra);
      if (moved && delayMs !== null) await deps.jobs.enqueue(trx, STEP_JOB, { id }, { startAfter: stepAfter(delayMs) });
      return moved;
    });

  const fail = async (from: Im3Status, message: string) => {
    const moved = await transition(db, id, from, 'FAILED', at(), { error_message: message.slice(0, 500) });
    if (moved) deps.log.info({ transaction: id, from }, 'IM3 purchase failed');
  };

  const reschedule = (delayMs: number, extra: Extra = {}) =>
    withTransaction(db, async (trx) => {
      const tx = await findTransaction(trx, id);
      if (!tx || FINAL.includes(tx.status)) return;
      if (Object.keys(extra).length > 0) await transition(trx, id, tx.status, tx.status, at(), extra);
      await deps.jobs.enqueue(trx, STEP_JOB, { id }, { startAfter: stepAfter(delayMs) });
    });

  const tx = await findTransaction(db, id);
  if (!tx || FINAL.includes(tx.status)) return;
  const pkg = await findPackage(db, tx.package_id);
  if (!pkg) return fail(tx.status, 'The package no longer exists');
  const stepMs = operator.stepMs;
  try {
    switch (tx.status) {
      case 'PENDING':
        await advance('PENDING', 'PROCESSING', stepMs);
        return;
      case 'PROCESSING':
      case 'CHECKING_ELIGIBILITY': {
        if (tx.status === 'PROCESSING' && !(await advance('PROCESSING', 'CHECKING_ELIGIBILITY', null))) return;
        const { session } = await operatorSession(deps, tx.account_id);
        const { ref } = await operator.checkEligibility(session, orderOf(tx, pkg));
        await advance('CHECKING_ELIGIBILITY', 'WAITING_FOR_ELIGIBILITY', config.im3EligibilityIntervalMs, {
          eligibility_ref: ref,
          eligibility_polls: 0,
        });
        return;
      }
      case 'WAITING_FOR_ELIGIBILITY': {
        const { session } = await operatorSession(deps, tx.account_id);
        const state = await operator.eligibilityStatus(session, tx.eligibility_ref ?? '');
        if (state === 'ELIGIBLE') {
          await advance('WAITING_FOR_ELIGIBILITY', 'INITIATING_PAYMENT', stepMs);
        } else if (state === 'NOT_ELIGIBLE') {
          await fail('WAITING_FOR_ELIGIBILITY', 'This number is not eligible for the package');
        } else if (tx.eligibility_polls + 1 >= config.im3EligibilityAttempts) {
          await fail('WAITING_FOR_ELIGIBILITY', 'The operator did not confirm eligibility in time');
        } else {
          await reschedule(config.im3EligibilityIntervalMs, { eligibility_polls: tx.eligibility_polls + 1 });
        }
        return;
      }
      case 'INITIATING_PAYMENT': {
        const { session } = await operatorSession(deps, tx.account_id);
        const payment = await operator.initiatePayment(session, orderOf(tx, pkg), tx.eligibility_ref ?? '');
        // The QR encoder is loaded at the first payment, not at start-up.
        const { default: QRCode } = await import('qrcode');
        const png = await QRCode.toDataURL(payment.qrPayload, { errorCorrectionLevel: 'M', margin: 2, width: 320 });
        await advance('INITIATING_PAYMENT', 'PAYMENT_INITIATED', config.im3PaymentPollMs, {
          payment_ref: payment.ref,
          qr_payload: payment.qrPayload,
          qr_code: png,
          payment_deadline: new Date(at().getTime() + config.im3PaymentTimeoutMs),
        });
        return;
      }
      case 'PAYMENT_INITIATED': {
        const { session } = await operatorSession(deps, tx.account_id);
        const state = await operator.paymentStatus(session, tx.payment_ref ?? '');
        if (state === 'PAID') await advance('PAYMENT_INITIATED', 'COMPLETED', null);
        else if (state === 'FAILED') await fail('PAYMENT_INITIATED', 'The operator reported the payment failed');
        else if (tx.payment_deadline && at().getTime() >= new Date(tx.payment_deadline).getTime()) {
          await fail('PAYMENT_INITIATED', 'The payment was not made in time');
        } else await reschedule(config.im3PaymentPollMs);
        return;
      }
      default:
        return;
    }
  } catch (err) {
    const current = (await findTransaction(db, id))?.status ?? tx.status;
    // A refusal (no session, a rejected order, a refused session) will not get better by trying again.
    const permanent =
      (err instanceof OperatorError && err.kind !== 'unavailable') ||
      (err instanceof AppError && err.code === 'BUSINESS_LOGIC_ERROR');
    if (permanent || job.retryCount >= STEP_RETRIES) {
      await fail(current, (err as Error).message);
      return;
    }
    deps.log.warn({ transaction: id, status: current, err: (err as Error).message }, 'IM3 step failed; will retry');
    throw err;
  }
}
