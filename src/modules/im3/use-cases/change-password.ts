// A password change on the identity core: the current password is checked, other sessions end, this one gets
// new tokens.
import type { RequestOrigin } from '../../../core/audit/audit.ts';
import type { Im3Deps } from '../wire.ts';

export async function changePassword(
  deps: Pick<Im3Deps, 'identity'>,
  accountId: number,
  family: string | undefined,
  passwords: { current: string; next: string },
  origin: RequestOrigin,
) {
  const tokens = await deps.identity.changePassword(accountId, family, passwords.current, passwords.next, origin);
  return { ...tokens, message: 'Password changed successfully' };
}
