// The caller's own profile: read it, change the username, e-mail or phone number (normalised to 62…). A new
// number drops the operator session, which belonged to the old one.
import type { RequestOrigin } from '../../../core/audit/audit.ts';
import { AppError } from '../../../core/http/errors.ts';
import { internationalPhone } from '../../../core/phone.ts';
import { dropSession } from '../repo.ts';
import { profileView } from '../views.ts';
import type { Im3Deps } from '../wire.ts';
import { mustAccount, uniqueOrThrow } from './common.ts';

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
    phone = internationalPhone(patch.phone_number);
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
