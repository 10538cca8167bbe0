// What several IM3 use cases share: the caller's account (through the identity service), the sealed operator
// session, and how an operator failure reaches the caller.
import { open } from '../../../core/crypto.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Account } from '../../../core/identity/accounts.ts';
import { internationalPhone } from '../../../core/phone.ts';
import { OperatorError } from '../providers/operator.ts';
import { findSession } from '../repo.ts';
import type { Im3Deps } from '../wire.ts';

export const VERIFY_FIRST = 'Verify your IM3 number first (send-otp, then verify-otp)';

export async function mustAccount(deps: Pick<Im3Deps, 'identity'>, accountId: number): Promise<Account> {
  const a = await deps.identity.getAccount(accountId).catch(() => undefined);
  if (!a) throw new AppError('USER_NOT_FOUND', 'User not found');
  return a;
}

/** The account's verified operator session (opened) and the number it belongs to. */
export async function operatorSession(
  deps: Pick<Im3Deps, 'db' | 'sealKey'>,
  accountId: number,
): Promise<{ session: string; phone: string }> {
  const row = await findSession(deps.db, accountId);
  if (!row?.session_sealed) throw new AppError('BUSINESS_LOGIC_ERROR', VERIFY_FIRST);
  return { session: open(deps.sealKey, row.session_sealed), phone: row.phone };
}

/** A phone number as people write it (CONTRACTS §6), in the document's form `628…`; one message when invalid. */
export function phoneOrThrow(raw: string): string {
  const phone = internationalPhone(raw);
  if (!phone) {
    throw new AppError('VALIDATION_ERROR', 'Invalid phone_number', {
      details: { phone_number: ['must be an Indonesian mobile number (08…, 628… or +628…)'] },
    });
  }
  return phone;
}

/** Refuses, in IM3's words, a username, e-mail or phone that another live account uses (checked in this order). */
export async function uniqueOrThrow(
  deps: Pick<Im3Deps, 'identity'>,
  accountId: number | null,
  f: { username?: string; email?: string; phone?: string },
): Promise<void> {
  const inUse = deps.identity.identifierInUse;
  if (f.username && (await inUse('username', f.username, accountId))) {
    throw new AppError('USERNAME_EXISTS', 'This username is already taken');
  }
  if (f.email && (await inUse('email', f.email, accountId))) {
    throw new AppError('CONFLICT', 'This e-mail is already in use');
  }
  if (f.phone && (await inUse('phone', f.phone, accountId))) {
    throw new AppError('CONFLICT', 'This phone number is already in use');
  }
}

/**
 * What the caller sees of an operator failure (never the operator's raw answer beyond its short message): a refused
 * session, signature or OTP — and any refusal while linking a number — is IM3_AUTH_ERROR; an operator that did not
 * answer (timeout, network error, 5xx, 429, an answer that is not JSON) is EXTERNAL_SERVICE_ERROR, also while linking.
 */
export function fromOperator(err: unknown, authCall: boolean): never {
  if (err instanceof OperatorError) {
    if (err.kind === 'auth' || (authCall && err.kind === 'rejected')) {
      throw new AppError('IM3_AUTH_ERROR', err.message);
    }
    throw new AppError('EXTERNAL_SERVICE_ERROR', err.message);
  }
  throw err;
}

export const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === '23505';
