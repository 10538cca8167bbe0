// Stored webhook deliveries: the one intake and their processing. A verified callback is stored and handed to a job
// in one transaction, so the webhook answers fast and a crash between receiving and processing loses nothing; right
// after that commit the receiving instance processes the delivery itself (the job then finds it done), so a payment
// does not wait for a worker's next poll. The payment's own move is `transition` in service.ts.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Tables, Trx } from '../db/tables.ts';
import { afterCommit, withTransaction } from '../db/transaction.ts';
import type { Jobs } from '../jobs/jobs.ts';
import { type CallbackFacts, type CallbackReader, readCallback } from './callbacks.ts';
import type { LatePayments, LateReason } from './late.ts';
import type { PaymentIntent, PaymentStatus } from './service.ts';

export interface IntakeResult {
  status: number;
  outcome: 'accepted' | 'duplicate' | 'amount_mismatch' | 'unknown_reference' | 'unrecognised' | 'wrong_account';
  message: string;
  reference?: string;
  paymentStatus?: string;
}

/** Who signed a callback: the platform's token, and/or the accounts whose token it is. */
export interface CallbackSigner {
  platform: boolean;
  accounts: readonly string[];
}

export function createDeliveries(deps: {
  db: Kysely<Tables>;
  jobs: Jobs;
  logger: Logger;
  now: () => Date;
  /** The modules' callback shapes (`acceptCallbacks`), read at each delivery. */
  readers: readonly CallbackReader[];
  late: LatePayments;
  transition: (
    trx: Trx,
    intent: PaymentIntent,
    status: Exclude<PaymentStatus, 'PENDING'>,
    facts: { paidAt?: Date; paymentId?: string; reason?: string },
  ) => Promise<PaymentIntent | undefined>;
  isDue: (intent: PaymentIntent) => boolean;
  lateReason: (intent: PaymentIntent) => LateReason;
}) {
  const { db, readers, late, transition, isDue, lateReason } = deps;

  /**
   * Processes one stored delivery: the payment's transition (and its module's listener), or the late payment, in
   * one transaction. Idempotent: the delivery row is locked and marked processed in that transaction, so the
   * in-process attempt after the intake's commit and the job each do it at most once between them.
   */
  async function processDelivery(deliveryId: number): Promise<void> {
    await withTransaction(db, async (trx) => {
      const delivery = await trx
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('id', '=', deliveryId)
        .forUpdate()
        .executeTakeFirst();
      if (!delivery || delivery.processed_at) return;
      const facts = readCallback(delivery.body, readers);
      const intent = await trx
        .selectFrom('payment_intents')
        .selectAll()
        .where('reference', '=', delivery.reference ?? '')
        .forUpdate()
        .executeTakeFirst();
      let result = 'no change';
      let current = intent;
      // Past its expiry but not yet swept: it is expired first, in this transaction, so that a payment arriving
      // now is late exactly as it would be a minute later (the status read already shows EXPIRED).
      if (current && facts && facts.status !== 'PENDING' && isDue(current)) {
        current = (await transition(trx, current, 'EXPIRED', { reason: 'not paid in time' })) ?? current;
      }
      if (current && facts && facts.status !== 'PENDING') {
        const changed = await transition(trx, current, facts.status, {
          paidAt: facts.paidAt,
          paymentId: facts.providerPaymentId,
          reason: facts.status === 'FAILED' ? 'provider reported failure' : undefined,
        });
        if (changed) result = `${current.status} -> ${changed.status}`;
        else if (facts.status === 'COMPLETED' && current.status === 'EXPIRED') {
          // Paid after Loket gave up on it: the module's record stays EXPIRED; the money is owed back.
          const recorded = await late.record(trx, current, {
            paidAt: facts.paidAt ?? deps.now(),
            paymentId: facts.providerPaymentId ?? null,
            reason: lateReason(current),
          });
          result = recorded ? `late payment #${recorded.id} to refund` : 'late payment already recorded';
          deps.logger.warn({ reference: current.reference }, 'payment completed after it expired: to refund');
        } else result = `ignored: already ${current.status}`;
      }
      await trx
        .updateTable('webhook_deliveries')
        .set({ processed_at: deps.now(), result })
        .where('id', '=', delivery.id)
        .execute();
    });
  }

  deps.jobs.define<{ deliveryId: number }>({
    name: 'payments.process',
    retryLimit: 10,
    retryDelay: 2,
    handler: (job) => processDelivery(job.data.deliveryId),
  });

  /** The in-process attempts still running (awaited before the database closes). */
  const processing = new Set<Promise<void>>();
  /**
   * Right after the intake's commit: process the delivery in this process instead of waiting for a worker's poll.
   * Only while this instance's workers run (not once it is stopping: the job does it then). A failure (a lock
   * timeout, a listener's error) is left to the job, which retries with backoff.
   */
  function processSoon(deliveryId: number) {
    if (!deps.jobs.started) return;
    const attempt = processDelivery(deliveryId)
      .catch((err: unknown) => {
        deps.logger.warn({ err, deliveryId }, 'webhook delivery not processed at once; its job retries it');
      })
      .finally(() => processing.delete(attempt));
    processing.add(attempt);
  }

  /**
   * The webhook intake, after the callback token was checked (`signer`: whose token it was): store the delivery,
   * refuse a callback signed by another account than the payment's, drop duplicates, refuse a wrong amount, and
   * hand the rest to the `payments.process` job, all in one transaction.
   */
  async function intake(body: unknown, webhookId: string | undefined, signer: CallbackSigner): Promise<IntakeResult> {
    const facts = readCallback(body, readers);
    const raw = JSON.stringify(body ?? null);
    return withTransaction(db, async (trx) => {
      const store = (outcome: Exclude<IntakeResult['outcome'], 'wrong_account'>, f?: CallbackFacts, dedup?: string) =>
        trx
          .insertInto('webhook_deliveries')
          .values({
            provider: 'xendit',
            dedup_key: dedup ?? `raw:${randomBytes(8).toString('hex')}`,
            reference: f?.reference ?? null,
            status: f?.status ?? null,
            amount: f?.amount !== undefined && Number.isFinite(f.amount) ? f.amount : null,
            outcome,
            body: raw,
            received_at: deps.now(),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
      if (!facts) {
        await store('unrecognised');
        return {
          status: 400,
          outcome: 'unrecognised',
          message: 'The callback body is not a recognised Xendit callback',
        };
      }
      const intent = await trx
        .selectFrom('payment_intents')
        .select(['amount', 'status', 'account'])
        .where('reference', '=', facts.reference)
        .executeTakeFirst();
      // Without Xendit's webhook id, a delivery is the same one when it names the same payment, provider id and
      // status (the reference is part of it: one provider id may arrive for two payments in hand-made bodies).
      const dedup = webhookId
        ? `id:${webhookId}`
        : `${facts.reference}:${facts.providerPaymentId ?? ''}:${facts.status}`;
      const base = { reference: facts.reference, paymentStatus: intent?.status };
      if (!intent) {
        await store('unknown_reference', facts, dedup);
        return { ...base, status: 404, outcome: 'unknown_reference', message: 'No payment with this reference' };
      }
      // Another account's token (a business that knows our reference) settles nothing: nothing is stored.
      const signed = intent.account === null ? signer.platform : signer.accounts.includes(intent.account);
      if (!signed) {
        return {
          reference: facts.reference,
          status: 403,
          outcome: 'wrong_account',
          message: 'Invalid x-callback-token for the account this payment was made with',
        };
      }
      const wrongCurrency = facts.currency !== undefined && facts.currency.toUpperCase() !== 'IDR';
      if ((facts.amount !== undefined && facts.amount !== intent.amount) || wrongCurrency) {
        await store('amount_mismatch', facts, dedup);
        return {
          ...base,
          status: 422,
          outcome: 'amount_mismatch',
          message: 'The paid amount does not match the payment',
        };
      }
      const inserted = await trx
        .insertInto('webhook_deliveries')
        .values({
          provider: 'xendit',
          dedup_key: dedup,
          reference: facts.reference,
          status: facts.status,
          amount: facts.amount ?? null,
          outcome: 'accepted',
          body: raw,
          received_at: deps.now(),
        })
        .onConflict((oc) => oc.columns(['provider', 'dedup_key']).where('outcome', '=', 'accepted').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) {
        await store('duplicate', facts, dedup);
        return { ...base, status: 200, outcome: 'duplicate', message: 'Already received' };
      }
      await deps.jobs.enqueue(trx, 'payments.process', { deliveryId: inserted.id });
      afterCommit(trx, () => processSoon(inserted.id));
      return { ...base, status: 200, outcome: 'accepted', message: 'Webhook received' };
    });
  }

  return {
    intake,
    /** Waits for the deliveries being processed in process (at shutdown, before the database closes). */
    async idle(): Promise<void> {
      while (processing.size > 0) await Promise.allSettled([...processing]);
    },
  };
}
