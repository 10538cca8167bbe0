// Late payments: money that reached the provider for a payment Loket no longer waited for (it had expired, the
// kiosk cancelled it, or its module had already been paid another way, e.g. in cash). The module's record stays as
// it was (EXPIRED never becomes COMPLETED, nothing is paid twice); the payment is kept here for an operator to
// refund, and the ledger holds it as owed to the payer:
//   received  `payments.late`         cash:<module>:late −amount, clearing:<module>:late-refunds +amount
//   refunded  `payments.late-refund`  clearing:<module>:late-refunds −amount, cash:<module>:late +amount
// Both journals are unique per late payment (the ledger's (kind, reference)), so it is owed once and repaid once, and
// the refunds-due row can never go below zero.
import type { Generated, Selectable } from 'kysely';
import type { Executor, Timestamp, Trx } from '../db/tables.ts';
import { withTransaction } from '../db/transaction.ts';
import { AppError } from '../http/errors.ts';
import { type Posting, post } from '../ledger/ledger.ts';

interface LatePaymentsTable {
  id: Generated<number>;
  intent_id: number;
  reference: string;
  module: string;
  amount: number;
  provider_payment_id: string | null;
  reason: LateReason;
  status: Generated<LateStatus>;
  paid_at: Timestamp;
  refunded_at: Timestamp | null;
  refunded_by: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

declare module '../db/tables.ts' {
  interface Tables {
    late_payments: LatePaymentsTable;
  }
}

/** Paid after the intent expired, after it was cancelled, or after its module settled the thing another way. */
export type LateReason = 'after_expiry' | 'after_cancel' | 'after_settle';
export type LateStatus = 'TO_REFUND' | 'REFUNDED';
export type LatePayment = Selectable<LatePaymentsTable>;

/** The two ledger rows a module's late money moves between. */
export function latePostings(module: string, amount: number): Posting[] {
  return [
    { account: { code: `cash:${module}:late`, kind: 'cash' }, amount: -amount },
    { account: { code: `clearing:${module}:late-refunds`, kind: 'clearing' }, amount },
  ];
}

/** Told, inside the recording transaction, of each new late payment of its module (throw to undo it). */
export type LateListener = (trx: Trx, row: LatePayment) => Promise<void>;

export function createLatePayments(deps: { db: Executor; now: () => Date }) {
  const { db } = deps;
  const listeners = new Map<string, LateListener>();
  return {
    /** A module asks to be told of its late payments, e.g. to tell the people who refund them. */
    onRecorded(module: string, listener: LateListener) {
      if (listeners.has(module)) throw new Error(`late payment listener for ${module} registered twice`);
      listeners.set(module, listener);
    },

    /**
     * Records a payment that arrived after its intent stopped being PENDING, in the caller's transaction (the one
     * that processes the callback). A second callback for the same payment records nothing more.
     */
    async record(
      trx: Trx,
      intent: { id: number; reference: string; module: string; amount: number },
      facts: { paidAt: Date; paymentId: string | null; reason: LateReason },
    ): Promise<LatePayment | undefined> {
      const row = await trx
        .insertInto('late_payments')
        .values({
          intent_id: intent.id,
          reference: intent.reference,
          module: intent.module,
          amount: intent.amount,
          provider_payment_id: facts.paymentId,
          reason: facts.reason,
          paid_at: facts.paidAt,
        })
        .onConflict((oc) => oc.column('reference').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      const posted = await post(
        trx,
        { kind: 'payments.late', reference: String(row.id), memo: intent.reference, at: deps.now() },
        latePostings(intent.module, intent.amount),
      );
      if (!posted.ok) throw new Error(`late payment ${row.id} could not be booked: ${posted.reason}`);
      await listeners.get(intent.module)?.(trx, row);
      return row;
    },

    /** A module's late payments, newest first, optionally of one status. */
    async list(module: string, f: { status?: LateStatus; skip: number; limit: number }) {
      let q = db.selectFrom('late_payments').where('module', '=', module);
      if (f.status) q = q.where('status', '=', f.status);
      const [rows, total] = await Promise.all([
        q.selectAll().orderBy('id', 'desc').offset(f.skip).limit(f.limit).execute(),
        q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { rows, total: Number(total.n) };
    },

    /**
     * An operator paid the money back (outside Loket): the row becomes REFUNDED and the owed amount leaves the
     * ledger, once. A second call answers 409.
     */
    async markRefunded(module: string, id: number, by: { accountId: number }): Promise<LatePayment> {
      return withTransaction(db, async (trx) => {
        const row = await trx
          .selectFrom('late_payments')
          .selectAll()
          .where('id', '=', id)
          .where('module', '=', module)
          .forUpdate()
          .executeTakeFirst();
        if (!row) throw new AppError('NOT_FOUND', 'No late payment with this id');
        if (row.status === 'REFUNDED') throw new AppError('CONFLICT', 'This late payment is already marked refunded');
        const at = deps.now();
        const posted = await post(
          trx,
          { kind: 'payments.late-refund', reference: String(row.id), memo: row.reference, at },
          latePostings(module, row.amount).map((p) => ({ ...p, amount: -p.amount })),
        );
        if (!posted.ok) throw new AppError('CONFLICT', 'This late payment is already marked refunded');
        return trx
          .updateTable('late_payments')
          .set({ status: 'REFUNDED', refunded_at: at, refunded_by: by.accountId, updated_at: at })
          .where('id', '=', row.id)
          .returningAll()
          .executeTakeFirstOrThrow();
      });
    },
  };
}

export type LatePayments = ReturnType<typeof createLatePayments>;
