// Registration: an account on the identity core with the IM3 user level; a taken username is USERNAME_EXISTS. The
// original's `phone_number` is stored too, read as CONTRACTS §6 reads phones and kept as the document writes it
// (`628…`).
import type { RequestOrigin } from '../../../core/audit/audit.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Im3Deps } from '../wire.ts';
import { phoneOrThrow, uniqueOrThrow } from './common.ts';

export async function register(
  deps: Pick<Im3Deps, 'identity'>,
  input: { username: string; password: string; email?: string; phone_number?: string | null },
  origin: RequestOrigin,
): Promise<{ user_id: number; username: string | null; phone_number: string | null }> {
  const phone = input.phone_number == null ? null : phoneOrThrow(input.phone_number);
  await uniqueOrThrow(deps, null, { username: input.username, email: input.email, phone: phone ?? undefined });
  try {
    const a = await deps.identity.createAccount(
      {
        username: input.username,
        email: input.email ?? null,
        name: input.username,
        password: input.password,
        phone,
        memberships: { im3: 1 },
      },
      null,
      origin,
    );
    return { user_id: a.id, username: a.username, phone_number: a.phone };
  } catch (err) {
    // Two registrations of one name at once: the loser is told the same as the check above tells.
    if (err instanceof AppError && err.code === 'CONFLICT') {
      throw new AppError('USERNAME_EXISTS', 'This username is already taken');
    }
    throw err;
  }
}
