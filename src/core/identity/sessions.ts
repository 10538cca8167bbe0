// Sessions: JWT access tokens (jose) and rotating refresh tokens. A refresh token is used once; presenting a
// used one again means it was stolen, so its whole family is revoked, except within REFRESH_GRACE_MS of its
// rotation: a browser client refreshes from several requests at once, and each of them gets the successor already
// issued. Logout revokes the access token's id (jti) at once on every instance and ends the refresh family.

import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import { deriveKey, hmacHex, randomToken, sha256Hex } from '../crypto.ts';
import type { Executor, Tables } from '../db/tables.ts';
import { withTransaction } from '../db/transaction.ts';
import { AppError } from '../http/errors.ts';
import type { Bus } from '../notify/bus.ts';

export const TOKEN_TYPE = 'at+jwt';
const ISSUER = 'loket';
const VERIFIED_CACHE_MAX = 50_000;
const AUDIENCE = 'loket';
/** How long a rotated refresh token still answers with its successor instead of counting as stolen (CONTRACTS §2). */
export const REFRESH_GRACE_MS = 30_000;

export interface AccessClaims {
  accountId: number;
  jti: string;
  family: string;
  sessionVersion: number;
  exp: number;
}

export interface TokenPair {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  refresh_token: string;
}

interface SigningKey {
  kid: string;
  key: Uint8Array;
}

const signingKey = (secret: string): SigningKey => {
  const key = deriveKey(secret, 'jwt-hs256');
  return { kid: createHash('sha256').update(key).digest('hex').slice(0, 12), key: new Uint8Array(key) };
};

// The JWT library is loaded when the first token is issued or checked, not at start-up.
let joseLib: Promise<typeof import('jose')> | undefined;
const jose = () => (joseLib ??= import('jose'));

export const unauthenticated = (message = 'Missing or invalid credentials') =>
  new AppError('AUTHENTICATION_ERROR', message, { headers: { 'www-authenticate': 'Bearer' } });

export function createSessions(deps: {
  config: Pick<Config, 'secret' | 'previousSecret' | 'accessTokenTtlMinutes' | 'refreshTokenTtlDays'>;
  db: Kysely<Tables>;
  bus: Bus;
  now: () => Date;
  logger?: Pick<Logger, 'warn'>;
}) {
  const current = signingKey(deps.config.secret);
  const keys = new Map<string, Uint8Array>([[current.kid, current.key]]);
  if (deps.config.previousSecret) {
    const prev = signingKey(deps.config.previousSecret);
    keys.set(prev.kid, prev.key);
  }
  const accessTtl = deps.config.accessTokenTtlMinutes * 60;
  // A rotated token's successor is derived from it (HMAC under a key of its own), so the grace period needs no
  // stored copy of a live secret: only the holder of the old token can name the successor again.
  const successorKey = deriveKey(deps.config.secret, 'refresh-successor-v1');
  const successorOf = (token: string) =>
    `lkr_${Buffer.from(hmacHex(successorKey, token), 'hex').toString('base64url')}`;
  const refreshTtlMs = deps.config.refreshTokenTtlDays * 86_400_000;

  const verified = new Map<string, AccessClaims>();
  // Revoked access-token ids until they would have expired anyway; kept in step on every instance by the bus.
  const revoked = new Map<string, number>();
  deps.bus.subscribe('token.revoked', (p) => {
    revoked.set(String(p.jti), Number(p.exp));
  });
  // Ended login families: every access token of the family stops working, on every instance.
  const revokedFamilies = new Map<string, number>();
  deps.bus.subscribe('token.family-revoked', (p) => {
    revokedFamilies.set(String(p.family), Number(p.exp));
  });
  // Revocations announced while the bus link was down are read back from the database.
  deps.bus.onGap(() => {
    loadRevoked().catch((err) =>
      deps.logger?.warn({ err: { message: (err as Error).message } }, 'revoked tokens not reloaded after a bus break'),
    );
  });
  async function loadRevoked(): Promise<void> {
    const rows = await deps.db
      .selectFrom('revoked_access_tokens')
      .select(['jti', 'expires_at'])
      .where('expires_at', '>', deps.now())
      .execute();
    for (const r of rows) revoked.set(r.jti, Math.floor(new Date(r.expires_at).getTime() / 1000));
    const families = await deps.db
      .selectFrom('revoked_token_families')
      .select(['family_id', 'expires_at'])
      .where('expires_at', '>', deps.now())
      .execute();
    for (const f of families) revokedFamilies.set(f.family_id, Math.floor(new Date(f.expires_at).getTime() / 1000));
  }

  /** Ends the access tokens of `families` (in `db`'s transaction); `announce` tells every instance after commit. */
  async function revokeFamilies(db: Executor, accountId: number, families: string[]) {
    const exp = Math.floor(deps.now().getTime() / 1000) + accessTtl + 5;
    const list = [...new Set(families.filter(Boolean))];
    if (list.length > 0) {
      await db
        .insertInto('revoked_token_families')
        .values(list.map((family_id) => ({ family_id, account_id: accountId, expires_at: new Date(exp * 1000) })))
        .onConflict((oc) => oc.column('family_id').doUpdateSet({ expires_at: new Date(exp * 1000) }))
        .execute();
    }
    return async () => {
      for (const family of list) {
        revokedFamilies.set(family, exp);
        await deps.bus.publish('token.family-revoked', { family, exp });
      }
    };
  }
  const sweep = () => {
    const t = deps.now().getTime();
    for (const [jti, exp] of revoked) if (exp * 1000 < t) revoked.delete(jti);
    for (const [family, exp] of revokedFamilies) if (exp * 1000 < t) revokedFamilies.delete(family);
  };
  const isRevoked = (claims: { jti: string; family: string }) =>
    revoked.has(claims.jti) || (claims.family !== '' && revokedFamilies.has(claims.family));

  async function issueAccess(accountId: number, family: string, sessionVersion: number): Promise<string> {
    const iat = Math.floor(deps.now().getTime() / 1000);
    const { SignJWT } = await jose();
    return new SignJWT({ fam: family, sv: sessionVersion })
      .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE, kid: current.kid })
      .setSubject(String(accountId))
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + accessTtl)
      .setJti(randomUUID())
      .sign(current.key);
  }

  async function newRefresh(
    db: Executor,
    accountId: number,
    family: string,
    token = `lkr_${randomToken(32)}`,
  ): Promise<string> {
    await db
      .insertInto('refresh_tokens')
      .values({
        account_id: accountId,
        family_id: family,
        token_hash: sha256Hex(token),
        expires_at: new Date(deps.now().getTime() + refreshTtlMs),
      })
      .execute();
    return token;
  }

  const pair = async (access: string, refresh: string): Promise<TokenPair> => ({
    access_token: access,
    token_type: 'bearer',
    expires_in: accessTtl,
    refresh_token: refresh,
  });

  return {
    load: loadRevoked,

    /** Verifies signature, algorithm, type, issuer, audience, times and revocation. Throws 401 otherwise. */
    async verifyAccess(token: string): Promise<AccessClaims> {
      // A token whose signature was already verified is remembered by its exact text; expiry and revocation
      // are still checked on every use. A forged token never matches an entry, so it always takes the full path.
      const known = verified.get(token);
      if (known) {
        if (known.exp * 1000 + 5000 <= deps.now().getTime()) {
          verified.delete(token);
          throw unauthenticated('The token has expired');
        }
        if (isRevoked(known)) throw unauthenticated('This token has been revoked');
        return known;
      }
      const { jwtVerify, errors: joseErrors } = await jose();
      try {
        const { payload } = await jwtVerify(
          token,
          (header) => {
            const key = header.kid ? keys.get(header.kid) : undefined;
            if (!key) throw new joseErrors.JWKSNoMatchingKey();
            return key;
          },
          {
            algorithms: ['HS256'],
            typ: TOKEN_TYPE,
            issuer: ISSUER,
            audience: AUDIENCE,
            requiredClaims: ['exp', 'iat', 'nbf', 'jti', 'sub'],
            currentDate: deps.now(),
            clockTolerance: 5,
          },
        );
        const accountId = Number(payload.sub);
        if (!Number.isSafeInteger(accountId) || typeof payload.jti !== 'string') throw unauthenticated();
        const claims: AccessClaims = {
          accountId,
          jti: payload.jti,
          family: String(payload.fam ?? ''),
          sessionVersion: Number(payload.sv ?? 0),
          exp: payload.exp as number,
        };
        if (isRevoked(claims)) throw unauthenticated('This token has been revoked');
        if (verified.size >= VERIFIED_CACHE_MAX) verified.clear();
        verified.set(token, claims);
        return claims;
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw unauthenticated(err instanceof joseErrors.JWTExpired ? 'The token has expired' : undefined);
      }
    },

    /** A new session (new refresh family) for an account whose credentials were just checked. */
    async start(accountId: number, sessionVersion: number, db: Executor = deps.db): Promise<TokenPair> {
      const family = randomUUID();
      const refresh = await newRefresh(db, accountId, family);
      return pair(await issueAccess(accountId, family, sessionVersion), refresh);
    },

    /**
     * Trades a refresh token for a new pair. `check` confirms the account may still sign in. A used token presented
     * again within REFRESH_GRACE_MS answers its successor (and a new access token); later, it revokes the family
     * (committed even though the caller gets 401).
     */
    async refresh(
      token: string,
      check: (db: Executor, accountId: number) => Promise<number | null>,
    ): Promise<TokenPair> {
      const outcome = await withTransaction(deps.db, async (trx) => {
        const row = await trx
          .selectFrom('refresh_tokens')
          .selectAll()
          .where('token_hash', '=', sha256Hex(token))
          .forUpdate()
          .executeTakeFirst();
        if (!row || row.revoked_at) return { error: 'Invalid refresh token' } as const;
        if (row.used_at && deps.now().getTime() - new Date(row.used_at).getTime() <= REFRESH_GRACE_MS) {
          // A parallel refresh of the same token: the successor already issued, with a new access token.
          const successor = successorOf(token);
          const next = await trx
            .selectFrom('refresh_tokens')
            .select(['account_id', 'family_id', 'revoked_at', 'expires_at'])
            .where('token_hash', '=', sha256Hex(successor))
            .executeTakeFirst();
          if (!next || next.revoked_at || next.family_id !== row.family_id)
            return { error: 'Invalid refresh token' } as const;
          if (new Date(next.expires_at).getTime() <= deps.now().getTime())
            return { error: 'Refresh token expired' } as const;
          const sessionVersion = await check(trx, row.account_id);
          if (sessionVersion === null) return { error: 'Account cannot sign in' } as const;
          return { accountId: row.account_id, family: row.family_id, sessionVersion, refresh: successor } as const;
        }
        if (row.used_at) {
          await trx
            .updateTable('refresh_tokens')
            .set({ revoked_at: deps.now() })
            .where('family_id', '=', row.family_id)
            .where('revoked_at', 'is', null)
            .execute();
          const announce = await revokeFamilies(trx, row.account_id, [row.family_id]);
          return {
            error: 'Refresh token reuse detected; every session of this login has been ended',
            announce,
          } as const;
        }
        if (new Date(row.expires_at).getTime() <= deps.now().getTime())
          return { error: 'Refresh token expired' } as const;
        const sessionVersion = await check(trx, row.account_id);
        if (sessionVersion === null) return { error: 'Account cannot sign in' } as const;
        await trx.updateTable('refresh_tokens').set({ used_at: deps.now() }).where('id', '=', row.id).execute();
        const refresh = await newRefresh(trx, row.account_id, row.family_id, successorOf(token));
        return { accountId: row.account_id, family: row.family_id, sessionVersion, refresh } as const;
      });
      if ('error' in outcome) {
        if ('announce' in outcome) await outcome.announce?.();
        throw unauthenticated(outcome.error);
      }
      return pair(await issueAccess(outcome.accountId, outcome.family, outcome.sessionVersion), outcome.refresh);
    },

    /** Ends a session: the access token at once (every instance), and its refresh family. */
    async logout(claims: AccessClaims, refreshToken: string | undefined): Promise<void> {
      const announce = await withTransaction(deps.db, async (trx) => {
        await trx
          .insertInto('revoked_access_tokens')
          .values({ jti: claims.jti, account_id: claims.accountId, expires_at: new Date(claims.exp * 1000) })
          .onConflict((oc) => oc.doNothing())
          .execute();
        const families = [claims.family];
        if (refreshToken) {
          const r = await trx
            .selectFrom('refresh_tokens')
            .select(['family_id', 'account_id'])
            .where('token_hash', '=', sha256Hex(refreshToken))
            .executeTakeFirst();
          if (r && r.account_id === claims.accountId) families.push(r.family_id);
        }
        await trx
          .updateTable('refresh_tokens')
          .set({ revoked_at: deps.now() })
          .where('family_id', 'in', families.filter(Boolean))
          .where('revoked_at', 'is', null)
          .execute();
        return revokeFamilies(trx, claims.accountId, families);
      });
      sweep();
      await deps.bus.publish('token.revoked', { jti: claims.jti, exp: claims.exp });
      await announce();
    },

    /** Ends every refresh family of an account except `keepFamily` (the access tokens end by the session version). */
    async endOtherSessions(db: Executor, accountId: number, keepFamily: string | undefined): Promise<void> {
      let q = db
        .updateTable('refresh_tokens')
        .set({ revoked_at: deps.now() })
        .where('account_id', '=', accountId)
        .where('revoked_at', 'is', null);
      if (keepFamily) q = q.where('family_id', '!=', keepFamily);
      await q.execute();
    },

    /**
     * Ends every login of an account except `keepFamily`, access tokens included: their refresh tokens now, their
     * families revoked in `db`'s transaction; the returned `announce` tells every instance after commit. An access
     * token is only issued beside a refresh token of its family, so the families with an unexpired refresh token
     * cover every live access token.
     */
    async endOtherLogins(db: Executor, accountId: number, keepFamily: string | undefined) {
      let families = db
        .selectFrom('refresh_tokens')
        .select('family_id')
        .distinct()
        .where('account_id', '=', accountId)
        .where('expires_at', '>', deps.now());
      if (keepFamily) families = families.where('family_id', '!=', keepFamily);
      const list = (await families.execute()).map((r) => r.family_id);
      await this.endOtherSessions(db, accountId, keepFamily);
      return revokeFamilies(db, accountId, list);
    },

    issueAccess,
    newRefresh,
    accessTtl,
  };
}

export type Sessions = ReturnType<typeof createSessions>;
