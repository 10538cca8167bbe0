// Guards any module uses in one line: `onRequest: identity.guards.bearer('shop', 50)`, `…apiKey('shop')`, or
// `…bearerOrKey('shop', 1)` where people (bearer tokens) and machines (API keys, e.g. kiosks) both come.
// They run before body validation, so an unauthenticated caller learns nothing about the schema.
// 401 for missing or invalid credentials, 403 for a level too low. (Another account's resource is the module's
// 404: repositories filter by `request.auth.accountId`.)
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { AppError } from '../http/errors.ts';
import { type AuthState, levelFor } from './accounts.ts';
import type { ApiKeys, KeyOwner } from './apikeys.ts';
import type { SignInAttempts } from './attempts.ts';
import { type Sessions, unauthenticated } from './sessions.ts';

export interface RequestAuth {
  accountId: number;
  /** The caller's level in the module the guard protects. */
  level: number;
  module: string;
  /** Bearer tokens only. */
  jti?: string;
  family?: string;
  exp?: number;
  sessionVersion?: number;
  /** API keys only. */
  keyId?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth?: RequestAuth;
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S{1,4096})\s*$/i.exec(header);
  return m?.[1];
}

export function createGuards(deps: {
  attempts: SignInAttempts;
  sessions: Sessions;
  apiKeys: ApiKeys;
  authState: { get(id: number): Promise<AuthState | null>; cached(id: number): AuthState | null | undefined };
}) {
  async function fromBearer(request: FastifyRequest, module: string): Promise<RequestAuth> {
    const token = bearerToken(request);
    if (!token) throw unauthenticated('Missing bearer token');
    const claims = await deps.sessions.verifyAccess(token);
    const state = await deps.authState.get(claims.accountId);
    if (!state?.active) throw unauthenticated('This account cannot sign in');
    if (state.sessionVersion !== claims.sessionVersion) throw unauthenticated('This session has ended; sign in again');
    return {
      accountId: claims.accountId,
      level: levelFor(state.memberships, module),
      module,
      jti: claims.jti,
      family: claims.family,
      exp: claims.exp,
      sessionVersion: claims.sessionVersion,
    };
  }

  const keyHeader = (request: FastifyRequest) => {
    const raw = request.headers['x-api-key'];
    return Array.isArray(raw) ? raw[0] : raw;
  };

  /**
   * The caller when both its key and its account are in memory and the account is active: the answer `fromApiKey`
   * would give, without a promise (most key requests). Undefined sends the request the long way.
   */
  function fromCachedKey(request: FastifyRequest, module: string): RequestAuth | undefined {
    const key = keyHeader(request);
    const owner = key ? deps.apiKeys.cached(key.trim(), module) : undefined;
    const state = owner && deps.authState.cached(owner.accountId);
    return owner && state?.active ? keyAuth(owner, state, module) : undefined;
  }

  const keyAuth = (owner: KeyOwner, state: AuthState, module: string): RequestAuth => ({
    accountId: owner.accountId,
    level: levelFor(state.memberships, module),
    module,
    keyId: owner.keyId,
  });

  async function fromApiKey(request: FastifyRequest, module: string): Promise<RequestAuth> {
    const key = keyHeader(request);
    if (!key) throw new AppError('AUTHENTICATION_ERROR', 'Missing x-api-key header');
    // A key found in memory never comes here, so a client IP that guesses keys is refused without slowing the
    // live keys behind the same address.
    await deps.attempts.checkKeyFrom(request.ip);
    const owner = await deps.apiKeys.authenticate(key.trim(), module);
    const state = owner && (await deps.authState.get(owner.accountId));
    if (!owner || !state?.active) {
      await deps.attempts.keyFailedFrom(request.ip);
      throw new AppError('AUTHENTICATION_ERROR', 'Invalid or revoked API key');
    }
    return keyAuth(owner, state, module);
  }

  const tooLow = () => new AppError('AUTHORIZATION_ERROR', 'Your account does not have access to this action');

  return {
    /** Requires a valid bearer token whose account has at least `minLevel` in `module`. */
    bearer(module: string, minLevel: number) {
      return async (request: FastifyRequest) => {
        const auth = await fromBearer(request, module);
        if (auth.level < minLevel) throw tooLow();
        request.auth = auth;
      };
    },

    /** Requires a live `x-api-key` for `module`. */
    apiKey(module: string) {
      // Callback style, so that a caller found in memory costs no promise.
      return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
        const known = fromCachedKey(request, module);
        if (known) {
          request.auth = known;
          return done();
        }
        fromApiKey(request, module).then((auth) => {
          request.auth = auth;
          done();
        }, done);
      };
    },

    /**
     * Either credential, at `minLevel` or above in `module`: an `x-api-key` of that module (its owner's level
     * counts) when the header is present, otherwise a bearer token. Neither: 401.
     */
    bearerOrKey(module: string, minLevel: number) {
      return async (request: FastifyRequest) => {
        const hasKey = request.headers['x-api-key'] !== undefined;
        if (!hasKey && request.headers.authorization === undefined) {
          throw new AppError('AUTHENTICATION_ERROR', 'Missing credentials: send a bearer token or an x-api-key header');
        }
        const auth = hasKey ? await fromApiKey(request, module) : await fromBearer(request, module);
        if (auth.level < minLevel) throw tooLow();
        request.auth = auth;
      };
    },

    fromBearer,
  };
}

export type Guards = ReturnType<typeof createGuards>;
