// Registration: an account on the identity core with the IM3 user level; a taken username is USERNAME_EXISTS.
import type { RequestOrigin } from '../../../core/audit/audit.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Im3Deps } from '../wire.ts';
import { uniqueOrThrow } from './common.ts';

export async function register(
  deps: Pick<Im3Deps, 'identity'>,
  input: { username: string; password: string; email?: string },
  origin: RequestOrigin,
): Promise<{ user_id: number; username: string | null }> {
  await uniqueOrThrow(deps, null, { username: input.username, email: input.email });
  try {
    const a = await deps.identity.createAccount(
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
    // Two registrations of one name at once: the loser is told the same as the check above tells.
    if (err instanceof AppError && err.code === 'CONFLICT') {
      throw new AppError('USERNAME_EXISTS', 'This username is already taken');
    }
    throw err;
  }
}
