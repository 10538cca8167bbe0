// The identity service: sign-in, password changes, the platform admin's account management, and the
// bootstrap admin. Every write that an admin makes is in the activity log, in the same transaction.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import { type RequestOrigin, recordActivity } from '../audit/audit.ts';
import type { Executor, Tables } from '../db/tables.ts';
import { withTransaction } from '../db/transaction.ts';
import { AppError, type FieldErrors } from '../http/errors.ts';
import {
  type Account,
  type AccountIdentifier,
  findByLogin,
  getAccount,
  identifierInUse,
  insertAccount,
  MEMBERSHIP_MODULES,
  type Memberships,
  membershipsOf,
  PLATFORM,
  setMemberships,
} from './accounts.ts';
import type { SignInAttempts } from './attempts.ts';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import type { Sessions, TokenPair } from './sessions.ts';

export interface AccountInput {
  email?: string | null;
  username?: string | null;
  name: string;
  phone?: string | null;
  password?: string | null;
  memberships: Memberships;
}

export interface AccountPatch {
  email?: string | null;
  username?: string | null;
  name?: string;
  phone?: string | null;
  password?: string;
  status?: 'active' | 'disabled';
  memberships?: Memberships;
}

/** The service's own check of account fields, so the CLI and modules get the same rules as the HTTP schema. */
export function accountProblems(a: {
  email?: string | null;
  username?: string | null;
  memberships?: Memberships;
}): FieldErrors {
  const out: FieldErrors = {};
  if (a.email && !/^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$/.test(a.email)) out.email = ['must be an e-mail address'];
  if (a.username && !/^[A-Za-z0-9_.-]{3,80}$/.test(a.username)) {
    out.username = ['must be 3-80 letters, digits, dots, dashes or underscores'];
  }
  for (const [module, level] of Object.entries(a.memberships ?? {})) {
    if (!MEMBERSHIP_MODULES().includes(module)) out[`memberships.${module}`] = ['unknown module'];
    else if (!Number.isInteger(level) || level < 1 || level > 100)
      out[`memberships.${module}`] = ['level must be 1-100'];
    else if (module === PLATFORM && level !== 100) out[`memberships.${module}`] = ['must be 100'];
  }
  return out;
}

function assertValid(a: Parameters<typeof accountProblems>[0]) {
  const details = accountProblems(a);
  const fields = Object.keys(details);
  if (fields.length > 0) throw new AppError('VALIDATION_ERROR', `Invalid ${fields.join(', ')}`, { details });
}

const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === '23505';
const taken = () => new AppError('CONFLICT', 'An account with this e-mail or username already exists');

export function createIdentityService(deps: {
  attempts: SignInAttempts;
  db: Kysely<Tables>;
  config: Pick<Config, 'passwordMinLength'>;
  sessions: Sessions;
  changed: (id: number) => Promise<void>;
  now: () => Date;
  logger: Logger;
}) {
  const { db } = deps;

  function checkPassword(password: string) {
    const problem = passwordProblem(password, deps.config.passwordMinLength);
    if (problem) throw new AppError('VALIDATION_ERROR', `password ${problem}`, { details: { password: [problem] } });
  }

  async function snapshot(id: number): Promise<Account> {
    const account = await getAccount(db, id);
    if (!account) throw new AppError('NOT_FOUND', 'Account not found');
    return account;
  }

  return {
    /**
     * Checks a login (e-mail or username) and password. Unknown users cost the same time as wrong passwords.
     * The disabled state is revealed only to someone who knows the password.
     */
    async login(login: string, password: string): Promise<{ tokens: TokenPair; account: Account }> {
      await deps.attempts.check(login);
      const row = await findByLogin(db, login);
      const ok = await verifyPassword(row?.password_hash ?? null, password);
      if (!row || !ok) {
        await deps.attempts.failed(login);
        throw new AppError('INVALID_CREDENTIALS', 'Incorrect username or password');
      }
      await deps.attempts.succeeded(login);
      if (row.status !== 'active') throw new AppError('ACCOUNT_DISABLED', 'This account is disabled');
      // The session starts only if the password that was checked is still the account's: a password change (or
      // sign-out everywhere) that committed during the check would otherwise not end this new session.
      const tokens = await withTransaction(db, async (trx) => {
        const now = await trx
          .selectFrom('accounts')
          .select(['password_hash', 'session_version', 'status', 'deleted_at'])
          .where('id', '=', row.id)
          .forShare()
          .executeTakeFirst();
        if (!now || now.password_hash !== row.password_hash || now.session_version !== row.session_version) {
          throw new AppError('INVALID_CREDENTIALS', 'Incorrect username or password');
        }
        if (now.status !== 'active' || now.deleted_at !== null) {
          throw new AppError('ACCOUNT_DISABLED', 'This account is disabled');
        }
        return deps.sessions.start(row.id, row.session_version, trx);
      });
      return { tokens, account: await snapshot(row.id) };
    },

    /** Returns the session version a refresh may continue with, or null when the account may not sign in. */
    async canRefresh(executor: Executor, accountId: number): Promise<number | null> {
      const row = await executor
        .selectFrom('accounts')
        .select(['status', 'session_version', 'deleted_at'])
        .where('id', '=', accountId)
        .executeTakeFirst();
      return row && row.status === 'active' && row.deleted_at === null ? row.session_version : null;
    },

    /** Changes a password after checking the current one; every other session ends, this one continues. */
    async changePassword(
      accountId: number,
      family: string | undefined,
      current: string,
      next: string,
      origin: RequestOrigin,
    ): Promise<TokenPair> {
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
      if (!(await verifyPassword(row.password_hash, current))) {
        throw new AppError('INVALID_CREDENTIALS', 'The current password is incorrect');
      }
      checkPassword(next);
      const hash = await hashPassword(next);
      // The session version stays: it would end the caller's access token too. The other logins end by family.
      const result = await withTransaction(db, async (trx) => {
        const updated = await trx
          .updateTable('accounts')
          .set({ password_hash: hash, updated_at: deps.now() })
          .where('id', '=', accountId)
          // Only over the password that was checked: of two changes at once, the second is refused.
          .where('password_hash', '=', row.password_hash)
          .returning('session_version')
          .executeTakeFirst();
        if (!updated) throw new AppError('INVALID_CREDENTIALS', 'The current password is incorrect');
        const announce = await deps.sessions.endOtherLogins(trx, accountId, family);
        await recordActivity(
          trx,
          { accountId, action: 'account.password_changed', objectType: 'account', objectId: accountId },
          origin,
          deps.now(),
        );
        const fam = family ?? crypto.randomUUID();
        const refresh = await deps.sessions.newRefresh(trx, accountId, fam);
        return { sessionVersion: updated.session_version, fam, refresh, announce };
      });
      await result.announce();
      await deps.changed(accountId);
      return {
        access_token: await deps.sessions.issueAccess(accountId, result.fam, result.sessionVersion),
        token_type: 'bearer',
        expires_in: deps.sessions.accessTtl,
        refresh_token: result.refresh,
      };
    },

    async createAccount(input: AccountInput, actor: number | null, origin: RequestOrigin): Promise<Account> {
      assertValid(input);
      if (!input.email && !input.username && !input.phone) {
        throw new AppError('VALIDATION_ERROR', 'An account needs an e-mail, a username or a phone', {
          details: { email: ['email, username or phone is required'] },
        });
      }
      if (input.password) checkPassword(input.password);
      const passwordHash = input.password ? await hashPassword(input.password) : null;
      let id: number;
      try {
        id = await withTransaction(db, async (trx) => {
          const newId = await insertAccount(trx, { ...input, passwordHash });
          await recordActivity(
            trx,
            {
              accountId: actor,
              action: 'account.created',
              objectType: 'account',
              objectId: newId,
              after: { email: input.email ?? null, username: input.username ?? null, memberships: input.memberships },
            },
            origin,
            deps.now(),
          );
          return newId;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw taken();
        throw err;
      }
      return snapshot(id);
    },

    getAccount: snapshot,

    /** Whether a live account other than `exceptId` already uses this username, e-mail or phone. */
    identifierInUse: (field: AccountIdentifier, value: string, exceptId: number | null = null) =>
      identifierInUse(db, field, value, exceptId),

    async updateAccount(id: number, patch: AccountPatch, actor: number, origin: RequestOrigin): Promise<Account> {
      const before = await snapshot(id);
      assertValid(patch);
      if (patch.password !== undefined) checkPassword(patch.password);
      const passwordHash = patch.password !== undefined ? await hashPassword(patch.password) : undefined;
      try {
        await withTransaction(db, async (trx) => {
          const endSessions = passwordHash !== undefined || patch.status === 'disabled';
          await trx
            .updateTable('accounts')
            .set((eb) => ({
              ...(patch.email !== undefined ? { email: patch.email?.trim() ?? null } : {}),
              ...(patch.username !== undefined ? { username: patch.username?.trim() ?? null } : {}),
              ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
              ...(patch.phone !== undefined ? { phone: patch.phone?.trim() ?? null } : {}),
              ...(patch.status !== undefined ? { status: patch.status } : {}),
              ...(passwordHash !== undefined ? { password_hash: passwordHash } : {}),
              ...(endSessions ? { session_version: eb('session_version', '+', 1) } : {}),
              updated_at: deps.now(),
            }))
            .where('id', '=', id)
            .execute();
          if (endSessions) await deps.sessions.endOtherSessions(trx, id, undefined);
          if (patch.memberships) await setMemberships(trx, id, patch.memberships);
          const { password: _secret, ...visible } = patch;
          await recordActivity(
            trx,
            {
              accountId: actor,
              action: 'account.updated',
              objectType: 'account',
              objectId: id,
              before: {
                status: before.status,
                memberships: before.memberships,
                email: before.email,
                username: before.username,
              },
              after: { ...visible, ...(passwordHash ? { password: 'changed' } : {}) },
            },
            origin,
            deps.now(),
          );
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw taken();
        throw err;
      }
      await deps.changed(id);
      return snapshot(id);
    },

    /** Accounts are never erased (ledgers and logs point at them): deletion disables and hides them. */
    async deleteAccount(id: number, actor: number, origin: RequestOrigin): Promise<void> {
      const before = await snapshot(id);
      if (id === actor) throw new AppError('BAD_REQUEST', 'You cannot delete your own account');
      await withTransaction(db, async (trx) => {
        await trx
          .updateTable('accounts')
          .set((eb) => ({ status: 'disabled', deleted_at: deps.now(), session_version: eb('session_version', '+', 1) }))
          .where('id', '=', id)
          .execute();
        await deps.sessions.endOtherSessions(trx, id, undefined);
        await trx
          .updateTable('api_keys')
          .set({ revoked_at: deps.now() })
          .where('account_id', '=', id)
          .where('revoked_at', 'is', null)
          .execute();
        await recordActivity(
          trx,
          { accountId: actor, action: 'account.deleted', objectType: 'account', objectId: id, before },
          origin,
          deps.now(),
        );
      });
      await deps.changed(id);
    },

    /** LOKET_ADMIN_EMAIL/PASSWORD: make sure this platform admin exists with this password. */
    async ensureAdmin(email: string, password: string): Promise<void> {
      const row = await findByLogin(db, email);
      if (!row) {
        await this.createAccount({ email, name: 'Platform admin', password, memberships: { [PLATFORM]: 100 } }, null, {
          requestId: null,
          ip: null,
        });
        deps.logger.info({ email }, 'bootstrap platform admin created');
        return;
      }
      const memberships = await membershipsOf(db, row.id);
      const samePassword = await verifyPassword(row.password_hash, password);
      if (samePassword && memberships[PLATFORM] === 100 && row.status === 'active') return;
      await this.updateAccount(
        row.id,
        {
          ...(samePassword ? {} : { password }),
          status: 'active',
          memberships: { ...memberships, [PLATFORM]: 100 },
        },
        row.id,
        { requestId: null, ip: null },
      );
      deps.logger.info({ email }, 'bootstrap platform admin updated');
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
