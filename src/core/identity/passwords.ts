// argon2id (the library's default algorithm) with OWASP's minimum: 19 MiB, 2 passes, 1 lane.
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

// The native argon2 binding is loaded at the first password operation, not at start-up.
let argon2: Promise<typeof import('@node-rs/argon2')> | undefined;
const lib = () => (argon2 ??= import('@node-rs/argon2'));

export const hashPassword = async (password: string): Promise<string> => (await lib()).hash(password, OPTIONS);

let dummy: Promise<string> | undefined;

/**
 * Checks a password. For an unknown account (`stored` null) it still runs one full verification against a
 * throw-away hash, so a login for a missing user takes as long as one with a wrong password.
 */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  const { verify } = await lib();
  if (!stored) {
    dummy ??= hashPassword('loket-timing-equaliser');
    await verify(await dummy, password).catch(() => false);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** The password policy; returns what is wrong, in words for the person choosing the password. */
export function passwordProblem(password: string, minLength: number): string | undefined {
  if (password.length < minLength) return `must be at least ${minLength} characters`;
  if (password.length > 256) return 'must be at most 256 characters';
  if (password.trim() === '') return 'must not be only spaces';
  return undefined;
}
