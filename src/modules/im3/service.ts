// The IM3 service: accounts on the identity core, the operator session (sealed, never returned), the package
// catalogue, and purchases, which move through every documented status as a chain of durable jobs.
//
// A purchase is one job name (`im3.purchase.step`) whose handler reads the purchase and does the step its status
// calls for: each status write is conditional on the status it expects, so a cancel, a duplicate job or a worker
// that died and ran again cannot move a purchase backwards or twice. The next step is enqueued in the same
// transaction as the status it follows, so a restart continues exactly where the purchase stood.
import { randomBytes } from 'node:crypto';
import type { RequestOrigin } from '../../core/audit/audit.ts';
import type { Core } from '../../core/context.ts';
import { deriveKey, open, seal } from '../../core/crypto.ts';
import type { Executor } from '../../core/db/tables.ts';
import { withTransaction } from '../../core/db/transaction.ts';
import { AppError } from '../../core/http/errors.ts';
import type { JobContext } from '../../core/jobs/jobs.ts';
import { type Im3Operator, OperatorError, type PackageOrder } from './operator.ts';
import {
  deletePackage,
  dropSession,
  FINAL,
  findOwnTransaction,
  findPackage,
  findSession,
  findTransaction,
  type Im3Status,
  insertPackage,
  insertTransaction,
  listOwnTransactions,
  listPackages,
  type Package,
  type PackageFields,
  packageInUse,
  saveChallenge,
  saveSession,
  statusHistory,
  type Transaction,
  transition,
  updatePackage,
} from './repo.ts';

export const STEP_JOB = 'im3.purchase.step';
export const STEP_RETRIES = 5;

/** `08…`, `+62…`, `62…` or `8…` → `62…`; undefined when it is not an Indonesian mobile number. */
export function normalisePhone(raw: string): string | undefined {
  const digits = raw.trim().replace(/[\s-]/g, '');
  let n: string;
  if (/^\+62\d+$/.test(digits)) n = digits.slice(1);
  else if (/^62\d+$/.test(digits)) n = digits;
  else if (/^0\d+$/.test(digits)) n = `62${digits.slice(1)}`;
  else if (/^8\d+$/.test(digits)) n = `62${digits}`;
  else return undefined;
  return /^628\d{7,12}$/.test(n) ? n : undefined;
}

const im3AuthError = (message: string) => new AppError('IM3_AUTH_ERROR', message);
const external = (message: string) => new AppError('EXTERNAL_SERVICE_ERROR', message);

/**
 * What the caller sees of an operator failure (never the operator's raw answer beyond its short message): a refused
 * session, signature or OTP — and any refusal while linking a number — is IM3_AUTH_ERROR; an operator that did not
 * answer (timeout, network error, 5xx, 429, an answer that is not JSON) is EXTERNAL_SERVICE_ERROR, also while linking.
 */
function fromOperator(err: unknown, authCall: boolean): never {
  if (err instanceof OperatorError) {
    if (err.kind === 'auth' || (authCall && err.kind === 'rejected')) throw im3AuthError(err.message);
    throw external(err.message);
  }
  throw err;
}

export function createIm3Service(core: Core, operator: Im3Operator) {
  const { database, identity, jobs, config, logger } = core;
  const db = database.db;
  const sealKey = deriveKey(config.secret, 'im3-operator-session-v1');
  const log = logger.child({ module: 'im3' });

  const at = () => core.now();
  const after = (ms: number) => new Date(Date.now() + ms);

  async function account(accountId: number) {
    const a = await identity.service.getAccount(accountId).catch(() => undefined);
    if (!a) throw new AppError('USER_NOT_FOUND', 'User not found');
    return a;
  }

  async function operatorSession(accountId: number): Promise<{ session: string; phone: string }> {
    const row = await findSession(db, accountId);
    if (!row?.session_sealed) {
      throw new AppError('BUSINESS_LOGIC_ERROR', 'Verify your IM3 number first (send-otp, then verify-otp)');
    }
    return { session: open(sealKey, row.session_sealed), phone: row.phone };
  }

  // ---- accounts --------------------------------------------------------------------------------------------

  async function uniqueOrThrow(accountId: number | null, f: { username?: string; email?: string; phone?: string }) {
    const q = (col: 'username' | 'email' | 'phone', value: string) =>
      db
        .selectFrom('accounts')
        .select('id')
        .where((eb) =>
          col === 'phone' ? eb('phone', '=', value) : eb(eb.fn('lower', [eb.ref(col)]), '=', value.toLowerCase()),
        )
        .where('deleted_at', 'is', null)
        .$if(accountId !== null, (qb) => qb.where('id', '!=', accountId as number))
        .executeTakeFirst();
    if (f.username && (await q('username', f.username))) {
      throw new AppError('USERNAME_EXISTS', 'This username is already taken');
    }
    if (f.email && (await q('email', f.email))) throw new AppError('CONFLICT', 'This e-mail is already in use');
    if (f.phone && (await q('phone', f.phone))) throw new AppError('CONFLICT', 'This phone number is already in use');
  }

  const profileView = (a: Awaited<ReturnType<typeof account>>) => ({
    id: a.id,
    username: a.username,
    email: a.email,
    phone_number: a.phone,
    created_at: a.created_at,
    updated_at: a.updated_at,
  });

  // ---- purchases -------------------------------------------------------------------------------------------

  const orderOf = (tx: Transaction, pkg: Package): PackageOrder => ({
    pvrCode: pkg.pvr_code,
    keyword: pkg.keyword,
    discountPrice: tx.amount,
    normalPrice: pkg.normal_price,
    packageName: pkg.package_name,
    msisdn: tx.phone,
    reference: tx.task_id,
  });

  /** Moves `id` from `from` to `to` and enqueues the next step `delayMs` later, in one transaction. */
  async function advance(
    id: number,
    from: Im3Status,
    to: Im3Status,
    delayMs: number | null,
    extra: Parameters<typeof transition>[5] = {},
  ): Promise<boolean> {
    return withTransaction(db, async (trx) => {
      const moved = await transition(trx, id, from, to, at(), extra);
      if (moved && delayMs !== null) await jobs.enqueue(trx, STEP_JOB, { id }, { startAfter: after(delayMs) });
      return moved;
    });
  }

  async function fail(id: number, from: Im3Status, message: string) {
    const moved = await transition(db, id, from, 'FAILED', at(), { error_message: message.slice(0, 500) });
    if (moved) log.info({ transaction: id, from }, 'IM3 purchase failed');
  }

  async function reschedule(id: number, delayMs: number, extra: Parameters<typeof transition>[5] = {}) {
    await withTransaction(db, async (trx) => {
      const tx = await findTransaction(trx, id);
      if (!tx || FINAL.includes(tx.status)) return;
      if (Object.keys(extra).length > 0) await transition(trx, id, tx.status, tx.status, at(), extra);
      await jobs.enqueue(trx, STEP_JOB, { id }, { startAfter: after(delayMs) });
    });
  }

  /** One step of a purchase; see the file's header. */
  async function step(job: JobContext<{ id: number }>): Promise<void> {
    const id = job.data.id;
    const tx = await findTransaction(db, id);
    if (!tx || FINAL.includes(tx.status)) return;
    const pkg = await findPackage(db, tx.package_id);
    if (!pkg) return fail(id, tx.status, 'The package no longer exists');
    const stepMs = operator.stepMs;
    try {
      switch (tx.status) {
        case 'PENDING':
          await advance(id, 'PENDING', 'PROCESSING', stepMs);
          return;
        case 'PROCESSING':
        case 'CHECKING_ELIGIBILITY': {
          if (tx.status === 'PROCESSING' && !(await advance(id, 'PROCESSING', 'CHECKING_ELIGIBILITY', null))) return;
          const { session } = await operatorSession(tx.account_id);
          const { ref } = await operator.checkEligibility(session, orderOf(tx, pkg));
          await advance(id, 'CHECKING_ELIGIBILITY', 'WAITING_FOR_ELIGIBILITY', config.im3EligibilityIntervalMs, {
            eligibility_ref: ref,
            eligibility_polls: 0,
          });
          return;
        }
        case 'WAITING_FOR_ELIGIBILITY': {
          const { session } = await operatorSession(tx.account_id);
          const state = await operator.eligibilityStatus(session, tx.eligibility_ref ?? '');
          if (state === 'ELIGIBLE') {
            await advance(id, 'WAITING_FOR_ELIGIBILITY', 'INITIATING_PAYMENT', stepMs);
          } else if (state === 'NOT_ELIGIBLE') {
            await fail(id, 'WAITING_FOR_ELIGIBILITY', 'This number is not eligible for the package');
          } else if (tx.eligibility_polls + 1 >= config.im3EligibilityAttempts) {
            await fail(id, 'WAITING_FOR_ELIGIBILITY', 'The operator did not confirm eligibility in time');
          } else {
            await reschedule(id, config.im3EligibilityIntervalMs, { eligibility_polls: tx.eligibility_polls + 1 });
          }
          return;
        }
        case 'INITIATING_PAYMENT': {
          const { session } = await operatorSession(tx.account_id);
          const payment = await operator.initiatePayment(session, orderOf(tx, pkg), tx.eligibility_ref ?? '');
          // The QR encoder is loaded at the first payment, not at start-up.
          const { default: QRCode } = await import('qrcode');
          const png = await QRCode.toDataURL(payment.qrPayload, { errorCorrectionLevel: 'M', margin: 2, width: 320 });
          await advance(id, 'INITIATING_PAYMENT', 'PAYMENT_INITIATED', config.im3PaymentPollMs, {
            payment_ref: payment.ref,
            qr_payload: payment.qrPayload,
            qr_code: png,
            payment_deadline: new Date(at().getTime() + config.im3PaymentTimeoutMs),
          });
          return;
        }
        case 'PAYMENT_INITIATED': {
          const { session } = await operatorSession(tx.account_id);
          const state = await operator.paymentStatus(session, tx.payment_ref ?? '');
          if (state === 'PAID') await advance(id, 'PAYMENT_INITIATED', 'COMPLETED', null);
          else if (state === 'FAILED') await fail(id, 'PAYMENT_INITIATED', 'The operator reported the payment failed');
          else if (tx.payment_deadline && at().getTime() >= new Date(tx.payment_deadline).getTime()) {
            await fail(id, 'PAYMENT_INITIATED', 'The payment was not made in time');
          } else await reschedule(id, config.im3PaymentPollMs);
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
        await fail(id, current, (err as Error).message);
        return;
      }
      log.warn({ transaction: id, status: current, err: (err as Error).message }, 'IM3 step failed; will retry');
      throw err;
    }
  }

  async function transactionView(tx: Transaction, withHistory = true, on: Executor = db) {
    const pkg = await findPackage(on, tx.package_id);
    return {
      id: tx.id,
      user_id: tx.account_id,
      package_id: tx.package_id,
      task_id: tx.task_id,
      status: tx.status,
      qr_code: tx.qr_code,
      qr_payload: tx.qr_payload,
      amount: tx.amount,
      phone_number: tx.phone,
      package_detail: pkg ? { id: pkg.id, package_name: pkg.package_name, discount_price: pkg.discount_price } : null,
      error_message: tx.error_message,
      ...(withHistory
        ? {
            status_history: (await statusHistory(on, tx.id)).map((e) => ({
              status: e.status,
              at: new Date(e.created_at).toISOString(),
            })),
          }
        : {}),
      created_at: new Date(tx.created_at).toISOString(),
      updated_at: new Date(tx.updated_at).toISOString(),
    };
  }

  const packageView = (p: Package) => ({
    id: p.id,
    pvr_code: p.pvr_code,
    keyword: p.keyword,
    discount_price: p.discount_price,
    normal_price: p.normal_price,
    package_name: p.package_name,
    created_at: new Date(p.created_at).toISOString(),
    updated_at: new Date(p.updated_at).toISOString(),
  });

  const isUnique = (err: unknown) => (err as { code?: string })?.code === '23505';

  return {
    step,

    // ---- accounts ----------------------------------------------------------------------------------------------
    async register(input: { username: string; password: string; email?: string }, origin: RequestOrigin) {
      await uniqueOrThrow(null, { username: input.username, email: input.email });
      try {
        const a = await identity.service.createAccount(
          {
            username: input.username,
            email: input.email ?? null,
            name: input.username,
            password: input.password,
            memberships: { im3: 1 },
          },
          null,
          origin,
        );
        return { user_id: a.id, username: a.username };
      } catch (err) {
        if (err instanceof AppError && err.code === 'CONFLICT') {
          throw new AppError('USERNAME_EXISTS', 'This username is already taken');
        }
        throw err;
      }
    },

    async me(accountId: number) {
      return profileView(await account(accountId));
    },

    async updateMe(
      accountId: number,
      patch: { username?: string; email?: string | null; phone_number?: string | null },
      origin: RequestOrigin,
    ) {
      const before = await account(accountId);
      let phone: string | null | undefined;
      if (patch.phone_number === null) phone = null;
      else if (patch.phone_number !== undefined) {
        phone = normalisePhone(patch.phone_number);
        if (!phone) {
          throw new AppError('VALIDATION_ERROR', 'Invalid phone_number', {
            details: { phone_number: ['must be an Indonesian mobile number (08…, 628… or +628…)'] },
          });
        }
      }
      await uniqueOrThrow(accountId, {
        username: patch.username,
        email: patch.email ?? undefined,
        phone: phone ?? undefined,
      });
      try {
        await identity.service.updateAccount(
          accountId,
          {
            ...(patch.username !== undefined ? { username: patch.username } : {}),
            ...(patch.email !== undefined ? { email: patch.email } : {}),
            ...(phone !== undefined ? { phone } : {}),
          },
          accountId,
          origin,
        );
      } catch (err) {
        if (err instanceof AppError && err.code === 'CONFLICT') {
          throw new AppError('CONFLICT', 'This username or e-mail is already in use');
        }
        throw err;
      }
      // The operator session belongs to a number: a new number needs a new OTP.
      if (phone !== undefined && phone !== before.phone) await dropSession(db, accountId);
      return profileView(await account(accountId));
    },

    async changePassword(
      accountId: number,
      family: string | undefined,
      current: string,
      next: string,
      origin: RequestOrigin,
    ) {
      return identity.service.changePassword(accountId, family, current, next, origin);
    },

    // ---- operator ----------------------------------------------------------------------------------------------
    async sendOtp(accountId: number) {
      const a = await account(accountId);
      if (!a.phone) throw new AppError('BUSINESS_LOGIC_ERROR', 'Set your phone number first (PUT /api/user/me)');
      const phone = a.phone;
      // The operator call is made outside any transaction: it may be a network call (withTransaction's rule), and
      // on the embedded database a transaction would hold the only connection for as long as the operator takes.
      let challenge: string;
      try {
        challenge = (await operator.sendOtp(db, phone)).challenge;
      } catch (err) {
        fromOperator(err, true);
      }
      await saveChallenge(db, accountId, phone, seal(sealKey, challenge), at());
      return { phone_number: phone, message: 'OTP sent' };
    },

    async verifyOtp(accountId: number, code: string) {
      const row = await findSession(db, accountId);
      const a = await account(accountId);
      if (!row?.challenge_sealed || row.phone !== a.phone) {
        throw new AppError('BUSINESS_LOGIC_ERROR', 'Ask for an OTP first (GET /api/im3/send-otp)');
      }
      let session: string;
      try {
        session = (await operator.verifyOtp(row.phone, open(sealKey, row.challenge_sealed), code)).session;
      } catch (err) {
        fromOperator(err, true);
      }
      const saved = await saveSession(
        db,
        accountId,
        { phone: row.phone, challenge: row.challenge_sealed },
        seal(sealKey, session),
        at(),
      );
      if (!saved) throw new AppError('BUSINESS_LOGIC_ERROR', 'Ask for an OTP first (GET /api/im3/send-otp)');
      return { verified: true, phone_number: row.phone, message: 'OTP verified' };
    },

    async profile(accountId: number) {
      const { session } = await operatorSession(accountId);
      try {
        return await operator.profile(session);
      } catch (err) {
        fromOperator(err, false);
      }
    },

    // ---- packages ----------------------------------------------------------------------------------------------
    async listPackages() {
      return (await listPackages(db)).map(packageView);
    },

    async getPackage(id: number) {
      const p = await findPackage(db, id);
      if (!p) throw new AppError('PACKAGE_NOT_FOUND', 'Package not found');
      return packageView(p);
    },

    async createPackage(fields: PackageFields) {
      try {
        return packageView(await insertPackage(db, fields, at()));
      } catch (err) {
        if (isUnique(err)) throw new AppError('CONFLICT', 'A package with this pvr_code already exists');
        throw err;
      }
    },

    async updatePackage(id: number, fields: Partial<PackageFields>) {
      try {
        const p = await updatePackage(db, id, fields, at());
        if (!p) throw new AppError('PACKAGE_NOT_FOUND', 'Package not found');
        return packageView(p);
      } catch (err) {
        if (isUnique(err)) throw new AppError('CONFLICT', 'A package with this pvr_code already exists');
        throw err;
      }
    },

    async deletePackage(id: number) {
      if (!(await findPackage(db, id))) throw new AppError('PACKAGE_NOT_FOUND', 'Package not found');
      if (await packageInUse(db, id)) {
        throw new AppError('CONFLICT', 'This package has purchases; it cannot be deleted');
      }
      await deletePackage(db, id);
    },

    // ---- purchases ---------------------------------------------------------------------------------------------
    async purchase(accountId: number, packageId: number) {
      const pkg = await findPackage(db, packageId);
      if (!pkg) throw new AppError('PACKAGE_NOT_FOUND', 'Package not found');
      const session = await findSession(db, accountId);
      // The session belongs to the number it was verified for; a number changed since needs a new OTP.
      if (!session?.session_sealed || session.phone !== (await account(accountId)).phone) {
        throw new AppError('BUSINESS_LOGIC_ERROR', 'Verify your IM3 number first (send-otp, then verify-otp)');
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
            at(),
          );
          await jobs.enqueue(trx, STEP_JOB, { id: row.id }, { startAfter: after(operator.stepMs) });
          return row;
        });
        return {
          transaction_id: tx.id,
          task_id: tx.task_id,
          package_detail: { id: pkg.id, package_name: pkg.package_name, discount_price: pkg.discount_price },
          message: 'Transaction is being processed',
          status: tx.status,
        };
      } catch (err) {
        if (isUnique(err)) {
          throw new AppError('CONFLICT', 'You already have an open purchase of this package');
        }
        throw err;
      }
    },

    async listTransactions(accountId: number, page: number, perPage: number) {
      const { rows, total } = await listOwnTransactions(db, accountId, (page - 1) * perPage, perPage);
      const items = [];
      for (const r of rows) items.push(await transactionView(r, false));
      return { items, meta: { page, per_page: perPage, total, pages: Math.ceil(total / perPage) } };
    },

    async getTransaction(accountId: number, id: number) {
      // The row and its history from one snapshot: the last entry is the status shown.
      return withTransaction(
        db,
        async (trx) => {
          const tx = await findOwnTransaction(trx, accountId, id);
          if (!tx) throw new AppError('NOT_FOUND', 'Transaction not found');
          return transactionView(tx, true, trx);
        },
        { isolation: 'repeatable read' },
      );
    },

    async cancel(accountId: number, id: number) {
      const tx = await findOwnTransaction(db, accountId, id);
      if (!tx) throw new AppError('NOT_FOUND', 'Transaction not found');
      const open = [
        'PENDING',
        'PROCESSING',
        'CHECKING_ELIGIBILITY',
        'WAITING_FOR_ELIGIBILITY',
        'INITIATING_PAYMENT',
        'PAYMENT_INITIATED',
      ] as const;
      const moved = await transition(db, id, open, 'CANCELLED', at(), { error_message: 'Cancelled by the user' });
      if (!moved) {
        const now = await findOwnTransaction(db, accountId, id);
        throw new AppError('BUSINESS_LOGIC_ERROR', `This transaction is already ${now?.status ?? tx.status}`);
      }
      return transactionView((await findOwnTransaction(db, accountId, id)) as Transaction);
    },

    /** Simulator only: the customer paid the QR code of transaction `id`. */
    async simulatePay(id: number) {
      const tx = await findTransaction(db, id);
      if (!tx?.payment_ref) throw new AppError('NOT_FOUND', 'No simulated payment for this transaction');
      await db
        .updateTable('im3_sim_payments')
        .set({ paid_at: at() })
        .where('ref', '=', tx.payment_ref)
        .where('paid_at', 'is', null)
        .execute();
      return { transaction_id: tx.id, paid: true };
    },
  };
}

export type Im3Service = ReturnType<typeof createIm3Service>;
