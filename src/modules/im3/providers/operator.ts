// The operator (IM3) port: what a purchase needs from Indosat's API, behind one interface with two adapters
// (`simulator.ts`, `http.ts`). Nothing behind this port logs a session token, an OTP or a key.
import type { Executor } from '../../../core/db/tables.ts';

export interface OperatorProfile {
  msisdn: string;
  name: string;
  balance: number;
  status: string;
  active_until: string | null;
  /** The operator's own profile fields (`mob`, `fname`, …), passed through as the original did. */
  fields: Record<string, unknown>;
}

/** What of a credential could hide in an operator's answer: such fields are never passed on. */
const SECRET_FIELD = /token|secret|session|password|otp|transid|auth|key/i;
const MAX_FIELDS = 100;

/** The operator's profile fields a caller may see: names that carry no credential, at most MAX_FIELDS of them. */
export function passedThrough(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data).slice(0, MAX_FIELDS)) {
    if (!SECRET_FIELD.test(k) && v !== undefined) out[k] = v;
  }
  return out;
}

export interface PackageOrder {
  pvrCode: string;
  keyword: string;
  discountPrice: number;
  normalPrice: number;
  packageName: string;
  msisdn: string;
  /** Our reference for this purchase (1-25 of A-Z, a-z, 0-9, -). */
  reference: string;
}

export type EligibilityState = 'PENDING' | 'ELIGIBLE' | 'NOT_ELIGIBLE';
export type PaymentState = 'PENDING' | 'PAID' | 'FAILED';

export type OperatorFailure = 'auth' | 'rejected' | 'unavailable';

/** A failure of the operator: its session or OTP was refused (auth), it said no (rejected), or it did not answer. */
export class OperatorError extends Error {
  readonly kind: OperatorFailure;
  constructor(kind: OperatorFailure, message: string) {
    super(message);
    this.name = 'OperatorError';
    this.kind = kind;
  }
}

export interface Im3Operator {
  readonly name: 'simulator' | 'http';
  /** Pause between two steps of a purchase (the simulator's IM3_SIMULATOR_STEP_MS; 0 for the real operator). */
  readonly stepMs: number;
  /** Asks for an OTP to `msisdn`; returns the operator's challenge (its transid) to send back with the code. */
  sendOtp(db: Executor, msisdn: string): Promise<{ challenge: string }>;
  verifyOtp(msisdn: string, challenge: string, code: string): Promise<{ session: string }>;
  profile(session: string): Promise<OperatorProfile>;
  checkEligibility(session: string, order: PackageOrder): Promise<{ ref: string }>;
  eligibilityStatus(session: string, ref: string): Promise<EligibilityState>;
  /** Starts the QRIS payment of an order found eligible by the check `eligibilityRef` (checkEligibility's ref). */
  initiatePayment(
    session: string,
    order: PackageOrder,
    eligibilityRef: string,
  ): Promise<{ ref: string; qrPayload: string }>;
  paymentStatus(session: string, ref: string): Promise<PaymentState>;
}

/** The package's provider code with the number filled in (the operator's `$MSISDN$` placeholder). */
export const pvrFor = (order: PackageOrder) => order.pvrCode.replaceAll('$MSISDN$', order.msisdn);
