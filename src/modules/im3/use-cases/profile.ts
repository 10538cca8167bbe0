// The caller's own profile: read it, change the username, e-mail or phone number (normalised to 62…). A new
// number drops the operator session, which belonged to the old one.
import type { RequestOrigin } from '../../../core/audit/audit.ts';
import { AppError } from '../../../core/http/errors.ts';
import { dropSession } from '../repo.ts';
import { profileView } from '../views.ts';
import type { Im3Deps } from '../wire.ts';
import { mustAccount, uniqueOrThrow } from './common.ts';

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

export async function myProfile(deps: Pick<Im3Deps, 'identity'>, accountId: number) {
  return profileView(await mustAccount(deps, accountId));
}

export async function updateMyProfile(
  deps: Pick<Im3Deps, 'identity' | 'db'>,
  accountId: number,
  patch: { username?: string; email?: string | null; phone_number?: string | null },
  origin: RequestOrigin,
) {
  const before = await mustAccount(deps, accountId);
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
  await uniqueOrThrow(deps, accountId, {
    username: patch.username,
    email: patch.email ?? undefined,
    phone: phone ?? undefined,
  });
  try {
    await deps.identity.updateAccount(
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
  if (phone !== undefined && phone !== before.phone) await dropSession(deps.db, accountId);
  return profileView(await mustAccount(deps, accountId));
}
