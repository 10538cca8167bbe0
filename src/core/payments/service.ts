// Payment intents. A payment moves one way only (PENDING → COMPLETED | FAILED | EXPIRED), in exactly one function
// (`transition`), which also tells the owning module inside the same transaction. The webhook intake and the
// processing of stored deliveries are in deliveries.ts.
import type { Kysely, Selectable } from 'kysely';
import type { Logger } from 'pino';
import { safeEqual } from '../crypto.ts';
import type { PaymentIntentsTable, Tables, Trx } from '../db/tables.ts';
import { withTransaction } from '../db/transaction.ts';
import { AppError } from '../http/errors.ts';
import type { Jobs } from '../jobs/jobs.ts';
import type { CallbackReader } from './callbacks.ts';
import { createDeliveries } from './deliveries.ts';
import { GatewayError, type InvoiceStatus, type PaymentGateway } from './gateway.ts';
import { createLatePayments, type LateReason } from './late.ts';

export type PaymentIntent = Selectable<PaymentIntentsTable>;
export type PaymentStatus = PaymentIntent['status'];

/** Called inside the transaction that changed the payment; throw to undo the change (it will be retried). */
export type PaymentListener = (trx: Trx, intent: PaymentIntent, previous: PaymentStatus) => Promise<void>;

export type { CallbackSigner, IntakeResult } from './deliveries.ts';

/**
 * A provider account of its own (a business with its own Xendit keys), by name. A payment made for an account is
 * made with its gateway, and its callbacks are accepted only with its callback token.
 */
export interface PaymentAccount {
  gateway: PaymentGateway;
  callbackToken: string;
}

export function createPayments(deps: {
  db: Kysely<Tables>;
  jobs: Jobs;
  gateway: PaymentGateway;
  /** Accounts by upper-case name; a payment for any other name is made with the platform's gateway. */
  accounts?: ReadonlyMap<string, PaymentAccount>;
  logger: Logger;
  now: () => Date;
  callbackUrl: string;
}) {
  const { db, gateway } = deps;
  const accounts = deps.accounts ?? new Map<string, PaymentAccount>();

  /** The account a payment for `name` is made with: its own when configured, else the platform's (undefined). */
  const accountOf = (name: string | undefined) => {
    const key = name?.trim().toUpperCase();
    return key && accounts.has(key) ? key : undefined;
  };
  /** The gateway of an account (the platform's for none). */
  const gatewayOf = (account: string | null | undefined): PaymentGateway =>
    (account ? accounts.get(account)?.gateway : undefined) ?? gateway;
  const listeners = new Map<string, PaymentListener>();
  const readers: CallbackReader[] = [];
  const late = createLatePayments({ db, now: deps.now });
  /** Why an expired intent is no longer waited for (a cancel is recorded as its failure reason). */
  const CANCELLED = 'cancelled';
  const lateReason = (intent: PaymentIntent): LateReason =>
    intent.failure_reason === CANCELLED ? 'after_cancel' : 'after_expiry';
  const isDue = (intent: PaymentIntent) =>
    intent.status === 'PENDING' && intent.expires_at !== null && intent.expires_at.getTime() <= deps.now().getTime();

  async function transition(
    trx: Trx,
    intent: PaymentIntent,
    status: Exclude<PaymentStatus, 'PENDING'>,
    facts: { paidAt?: Date; paymentId?: string; reason?: string },
  ): Promise<PaymentIntent | undefined> {
    if (intent.status !== 'PENDING') return undefined;
    const updated = await trx
      .updateTable('payment_intents')
      .set({
        status,
        paid_at: status === 'COMPLETED' ? (facts.paidAt ?? deps.now()) : null,
        payment_id: facts.paymentId ?? intent.payment_id,
        failure_reason: facts.reason ?? null,
        updated_at: deps.now(),
      })
      .where('id', '=', intent.id)
      .where('status', '=', 'PENDING')
      .returningAll()
      .executeTakeFirst();
    if (!updated) return undefined;
    const listener = listeners.get(intent.module);
    if (listener) await listener(trx, updated, 'PENDING');
    return updated;
  }

  // Stored webhook deliveries: the intake and their processing (deliveries.ts).
  const deliveries = createDeliveries({
    db,
    jobs: deps.jobs,
    logger: deps.logger,
    now: deps.now,
    readers,
    late,
    transition,
    isDue,
    lateReason,
  });

  deps.jobs.define({
    name: 'payments.expire',
    cron: '* * * * *',
    handler: async () => {
      await expireDue();
    },
  });

  async function expireDue(): Promise<number> {
    const due = await db
      .selectFrom('payment_intents')
      .select('id')
      .where('status', '=', 'PENDING')
      .where('expires_at', '<=', deps.now())
      .limit(500)
      .execute();
    let n = 0;
    for (const { id } of due) {
      await withTransaction(db, async (trx) => {
        const intent = await trx
          .selectFrom('payment_intents')
          .selectAll()
          .where('id', '=', id)
          .forUpdate()
          .executeTakeFirst();
        if (intent && (await transition(trx, intent, 'EXPIRED', { reason: 'not paid in time' }))) n++;
      });
    }
    return n;
  }

  /** Locks the intent of `reference` in `trx` and expires it when its time is up (the sweep's work, done now). */
  async function expireIfDueIn(trx: Trx, reference: string): Promise<PaymentIntent | undefined> {
    const intent = await trx
      .selectFrom('payment_intents')
      .selectAll()
      .where('reference', '=', reference)
      .forUpdate()
      .executeTakeFirst();
    if (!intent || !isDue(intent)) return intent;
    return (await transition(trx, intent, 'EXPIRED', { reason: 'not paid in time' })) ?? intent;
  }

  /**
   * Cancels a PENDING payment: the provider is asked to close the QR code or expire the hosted invoice (outside any
   * transaction), then the intent becomes EXPIRED with the reason `cancelled` (the module's listener follows).
   * Refused with 409 when it was paid, here or at the provider; an intent already expired or failed is answered as
   * it is. Money that still arrives afterwards is a late payment to refund (late.ts).
   */
  async function cancel(reference: string): Promise<PaymentIntent> {
    const before = await db
      .selectFrom('payment_intents')
      .selectAll()
      .where('reference', '=', reference)
      .executeTakeFirst();
    if (!before) throw new AppError('NOT_FOUND', 'No payment with this reference');
    const paid = () => new AppError('CONFLICT', 'The payment is already completed; it cannot be cancelled');
    if (before.status === 'COMPLETED') throw paid();
    if (before.status !== 'PENDING') return before;
    if (before.kind === 'qr' && before.provider_id) {
      let state: Awaited<ReturnType<PaymentGateway['closeQr']>>;
      try {
        state = await gatewayOf(before.account).closeQr({ providerId: before.provider_id, reference });
      } catch (err) {
        deps.logger.warn({ reference, err: { message: (err as Error).message } }, 'QR code could not be closed');
        throw new AppError('EXTERNAL_SERVICE_ERROR', 'The payment provider could not be reached; please try again');
      }
      // Paid at the provider and its callback still on the way: the payment completes, it is not cancelled.
      if (state.qr.status === 'COMPLETED') throw paid();
    }
    if (before.kind === 'invoice' && before.provider_id) {
      const status = await expireHostedInvoice(gatewayOf(before.account), before.provider_id, reference);
      if (status === 'PAID' || status === 'SETTLED') throw paid();
    }
    return withTransaction(db, async (trx) => {
      const intent = await expireIfDueIn(trx, reference);
      if (!intent) throw new AppError('NOT_FOUND', 'No payment with this reference');
      if (intent.status === 'COMPLETED') throw paid();
      if (intent.status !== 'PENDING') return intent;
      return (await transition(trx, intent, 'EXPIRED', { reason: CANCELLED })) ?? intent;
    });
  }

  /**
   * Expires a hosted invoice at the provider and answers its state afterwards. A refusal (an invoice that can no
   * longer be expired) is answered by reading the invoice; a provider that cannot be reached is a 502 to retry.
   */
  async function expireHostedInvoice(gw: PaymentGateway, providerId: string, reference: string) {
    try {
      return (await gw.expireInvoice(providerId)).status;
    } catch (err) {
      deps.logger.warn({ reference, err: { message: (err as Error).message } }, 'invoice could not be expired');
    }
    let status: InvoiceStatus;
    try {
      status = (await gw.getInvoice(providerId)).status;
    } catch (err) {
      // The provider does not know it (the simulator forgets its invoices on restart): nothing can pay it there.
      if (err instanceof GatewayError && err.httpStatus === 404) return 'EXPIRED';
      status = 'PENDING';
    }
    // Still payable there (or not known to be otherwise): not cancelled here either; the caller tries again.
    if (status === 'PENDING') {
      throw new AppError(
        'EXTERNAL_SERVICE_ERROR',
        'The payment provider could not expire the invoice; please try again',
      );
    }
    return status;
  }

  async function recordFailure(reference: string, err: unknown): Promise<never> {
    const reason = err instanceof GatewayError ? `${err.providerCode}: ${err.message}` : 'provider unavailable';
    await withTransaction(db, async (trx) => {
      const intent = await trx
        .selectFrom('payment_intents')
        .selectAll()
        .where('reference', '=', reference)
        .forUpdate()
        .executeTakeFirst();
      if (intent) await transition(trx, intent, 'FAILED', { reason: reason.slice(0, 300) });
    });
    deps.logger.warn({ reference, err: { message: (err as Error).message } }, 'payment provider refused a payment');
    throw new AppError('EXTERNAL_SERVICE_ERROR', 'The payment provider could not create the payment; please try again');
  }

  /**
   * Records the intent first (so a provider-side code never exists without our record), calls the provider
   * outside any transaction, then records its answer. A provider failure leaves the intent FAILED with the reason.
   */
  async function open(
    intent: {
      module: string;
      reference: string;
      amount: number;
      kind: 'qr' | 'invoice';
      expiresAt: Date;
      account: string | undefined;
    },
    call: (gw: PaymentGateway) => Promise<{ provider_id: string; qr_string?: string; invoice_url?: string }>,
  ): Promise<PaymentIntent> {
    const gw = gatewayOf(intent.account);
    await db
      .insertInto('payment_intents')
      .values({
        reference: intent.reference,
        module: intent.module,
        kind: intent.kind,
        amount: intent.amount,
        provider: gw.name,
        account: intent.account ?? null,
        expires_at: intent.expiresAt,
      })
      .execute();
    let answer: Awaited<ReturnType<typeof call>>;
    try {
      answer = await call(gw);
    } catch (err) {
      return recordFailure(intent.reference, err);
    }
    return db
      .updateTable('payment_intents')
      .set({ ...answer, updated_at: deps.now() })
      .where('reference', '=', intent.reference)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  return {
    gateway,
    /** The accounts whose callback token is `given` (compared in constant time). */
    accountsSignedBy: (given: string) =>
      [...accounts].filter(([, a]) => safeEqual(given, a.callbackToken)).map(([name]) => name),
    /** Whether any account has a callback token of its own. */
    hasAccounts: () => accounts.size > 0,
    transition,
    expireDue,
    cancel,
    /** Late payments (paid after expiry or cancel): the operators' list and their refunds. */
    late,
    /** Waits for the deliveries being processed in process (at shutdown, before the database closes). */
    idle: deliveries.idle,
    /** Expires the payment of `reference` now if its time is up (a read that must not wait for the sweep). */
    expireIfDue: (reference: string) => withTransaction(db, (trx) => expireIfDueIn(trx, reference)),

    /** A module asks to be told (inside the changing transaction) when one of its payments changes. */
    register(module: string, listener: PaymentListener) {
      if (listeners.has(module)) throw new Error(`payments listener for ${module} registered twice`);
      listeners.set(module, listener);
    },

    /** Creates a QRIS payment valid for `ttlMs` (with `account`'s keys when that account is configured). */
    async createQr(input: {
      module: string;
      reference: string;
      amount: number;
      ttlMs: number;
      account?: string;
    }): Promise<PaymentIntent> {
      const expiresAt = new Date(deps.now().getTime() + input.ttlMs);
      const account = accountOf(input.account);
      return open({ ...input, kind: 'qr', expiresAt, account }, async (gw) => {
        const qr = await gw.createQr({ ...input, expiresAt, callbackUrl: deps.callbackUrl });
        return { provider_id: qr.providerId, qr_string: qr.qrString };
      });
    },

    /**
     * Creates a hosted invoice (Xendit's payment page, or the simulator's), with `account`'s keys when that account
     * is configured, else the platform's.
     */
    async createInvoice(input: {
      module: string;
      reference: string;
      amount: number;
      description: string;
      payerEmail?: string;
      ttlSeconds: number;
      account?: string;
    }): Promise<PaymentIntent> {
      const expiresAt = new Date(deps.now().getTime() + input.ttlSeconds * 1000);
      const account = accountOf(input.account);
      return open({ ...input, kind: 'invoice', expiresAt, account }, async (gw) => {
        const invoice = await gw.createInvoice({ ...input, durationSeconds: input.ttlSeconds });
        return { provider_id: invoice.providerId, invoice_url: invoice.invoiceUrl };
      });
    },

    /** Accepts a module's own callback shape at the webhook (see CallbackReader). */
    acceptCallbacks(reader: CallbackReader): void {
      readers.push(reader);
    },

    find: (reference: string) =>
      db.selectFrom('payment_intents').selectAll().where('reference', '=', reference).executeTakeFirst(),

    /**
     * The webhook intake, after the callback token was checked (`signer`: whose token it was); see deliveries.ts.
     */
    intake: deliveries.intake,
  };
}

export type Payments = ReturnType<typeof createPayments>;
