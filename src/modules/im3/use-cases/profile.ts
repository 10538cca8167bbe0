// The caller's own profile: read it, change the username, e-mail or phone number (normalised to 62…). A new
// number drops the operator session, which belonged to the old one.
import type { RequestOrigin } from '../../../core/audit/audit.ts';
import { sha256Hex } from '../../../core/crypto.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Account } from '../../../core/identity/accounts.ts';
import { dropSession, findSession } from '../repo.ts';
import { profileView } from '../views.ts';
import type { Im3Deps } from '../wire.ts';
import { mustAccount, phoneOrThrow, uniqueOrThrow } from './common.ts';

export async function myProfile(deps: Pick<Im3Deps, 'identity' | 'db'>, accountId: number) {
  const a = await mustAccount(deps, accountId);
  return profileView(a, await operatorMarker(deps, a));
}

/**
 * The original's `token_id`, which its frontend reads as "the IM3 number is linked": a marker of the verified operator
 * session of the account's current number (a digest of the sealed session, never the session), null without one.
 */
async function operatorMarker(deps: Pick<Im3Deps, 'db'>, a: Account): Promise<string | null> {
  const row = await findSession(deps.db, a.id);
  if (!row?.session_sealed || row.phone !== a.phone) return null;
  return `im3s_${sha256Hex(row.session_sealed).slice(0, 24)}`;
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
    phone = phoneOrThrow(patch.phone_number);
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
  return myProfile(deps, accountId);
}
