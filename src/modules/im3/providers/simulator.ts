// The simulated operator: answers from this database (OTP by SMS through the outbox, eligibility after one step,
// QRIS payments paid through /_dev/im3/transactions/:id/pay).
import { randomBytes } from 'node:crypto';
import type { Config } from '../../../config.ts';
import type { Executor } from '../../../core/db/tables.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Otp } from '../../../core/identity/otp.ts';
import { buildQris } from '../../../core/payments/qris.ts';
import { insertSimPayment, simPayment } from '../repo.ts';
import { type Im3Operator, OperatorError } from './operator.ts';

export const OTP_PURPOSE = 'im3.operator';

export function createSimulatorOperator(deps: {
  config: Pick<Config, 'im3SimulatorStepMs' | 'merchantName' | 'merchantCity'>;
  otp: Otp;
  db: Executor;
  now: () => Date;
}): Im3Operator {
  const { config, now } = deps;
  const msisdnOf = (session: string) => {
    const m = /^sim\.(62\d{6,15})\.[A-Za-z0-9_-]+$/.exec(session);
    if (!m?.[1]) throw new OperatorError('auth', 'The operator session is not valid');
    return m[1];
  };
  return {
    name: 'simulator',
    stepMs: config.im3SimulatorStepMs,
    async sendOtp(db, msisdn) {
      // The challenge and its SMS in the outbox together, or neither.
      await withTransaction(db, (trx) =>
        deps.otp.issue(trx, OTP_PURPOSE, msisdn, {
          channel: 'sms',
          to: msisdn,
          body: (code) => `Kode OTP IM3 kamu: ${code}. Berlaku 5 menit. Jangan berikan kode ini kepada siapa pun.`,
        }),
      );
      return { challenge: `sim-${randomBytes(8).toString('hex')}` };
    },
    async verifyOtp(msisdn, _challenge, code) {
      const r = await deps.otp.verify(OTP_PURPOSE, msisdn, code);
      if (r.ok) return { session: `sim.${msisdn}.${randomBytes(18).toString('base64url')}` };
      if (r.reason === 'locked') {
        throw new AppError('RATE_LIMITED', 'Too many wrong codes: ask for a new OTP', {
          headers: { 'retry-after': '60' },
        });
      }
      throw new OperatorError(
        'auth',
        r.reason === 'wrong' ? 'The OTP code is not correct' : 'The OTP code has expired; ask for a new one',
      );
    },
    async profile(session) {
      const msisdn = msisdnOf(session);
      const name = 'Pelanggan IM3';
      // The operator's own fields, in the shape the operator's profile answer has them (`mob` without its 62).
      const fields = {
        mob: msisdn.slice(2),
        fname: name,
        email: '',
        img: '',
        membershipid: `SIM${msisdn.slice(-6)}`,
        userclass: 'PREPAID',
        utype: 'PREPAID',
        currenttier: 'REGULAR',
        enrollmentstatus: 'ENROLLED',
        imkas: false,
        whitelisted: false,
        alerts: [],
        consent: [],
      };
      return { msisdn, name, balance: 25_000, status: 'ACTIVE', active_until: null, fields };
    },
    async checkEligibility(session, order) {
      const msisdn = msisdnOf(session);
      if (msisdn !== order.msisdn) throw new OperatorError('auth', 'The operator session belongs to another number');
      return { ref: `${msisdn}:${now().getTime()}` };
    },
    async eligibilityStatus(session, ref) {
      const msisdn = msisdnOf(session);
      const [refMsisdn, started] = ref.split(':');
      if (refMsisdn !== msisdn || !started) throw new OperatorError('rejected', 'Unknown eligibility check');
      if (now().getTime() - Number(started) < config.im3SimulatorStepMs) return 'PENDING';
      return msisdn.endsWith('0000') ? 'NOT_ELIGIBLE' : 'ELIGIBLE';
    },
    async initiatePayment(session, order) {
      msisdnOf(session);
      const qrPayload = buildQris({
        merchantName: config.merchantName,
        merchantCity: config.merchantCity,
        amount: order.discountPrice,
        reference: order.reference,
      });
      await insertSimPayment(deps.db, {
        ref: order.reference,
        msisdn: order.msisdn,
        amount: order.discountPrice,
        at: now(),
      });
      return { ref: order.reference, qrPayload };
    },
    async paymentStatus(session, ref) {
      msisdnOf(session);
      const row = await simPayment(deps.db, ref);
      if (!row) throw new OperatorError('rejected', 'Unknown payment');
      return row.paid_at ? 'PAID' : 'PENDING';
    },
  };
}
