// The typed route kit. A route declares its schemas and its access once; the handler's `req.body`, `req.params`,
// `req.query` and `req.auth` are typed from that declaration, the guard and the rate limits are attached in the
// right order (guard first, so an unauthenticated caller learns nothing about the schema), and the OpenAPI entry
// gets its security and the error responses of the module's envelope.
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  preHandlerHookHandler,
  preSerializationHookHandler,
  RouteOptions,
} from 'fastify';
import { type Static, type TSchema, Type } from 'typebox';
import type { Core } from '../context.ts';
import type { RequestAuth } from '../identity/guards.ts';
import { type RouteLimit, rateLimit } from '../limits/limiter.ts';
import { localTimes } from '../time.ts';
import { type Envelope, errorResponses } from './envelopes.ts';
import { type Claim, runIdempotent, type StoredResponse } from './idempotency.ts';

/**
 * Who may call a route:
 * - `'public'`: anyone;
 * - `{ level }`: a bearer token whose account has at least `level` in the router's module (`module` names another,
 *   for example `'platform'`; level 0 admits any live session);
 * - `{ apiKey: true }`: a live `x-api-key` issued for the router's module;
 * - `{ level, apiKey: true }`: either credential at that level.
 */
export type Access =
  | 'public'
  | { level: number; module?: string; apiKey?: boolean }
  | { apiKey: true; module?: string };

export interface RouteSchema {
  body?: TSchema;
  params?: TSchema;
  querystring?: TSchema;
  headers?: TSchema;
  response?: Record<number, TSchema>;
  tags?: string[];
  summary?: string;
  description?: string;
  consumes?: string[];
  produces?: string[];
  hide?: boolean;
}

type In<T, Else = unknown> = T extends TSchema ? Static<T> : Else;

/** The request a handler sees: its parts typed by the route's schemas, `auth` by its access. */
export type Req<S extends RouteSchema, A extends Access> = Omit<
  FastifyRequest,
  'body' | 'params' | 'query' | 'auth'
> & {
  body: In<S['body']>;
  params: In<S['params'], Record<string, never>>;
  query: In<S['querystring'], Record<string, never>>;
  auth: A extends 'public' ? RequestAuth | undefined : RequestAuth;
  raw: FastifyRequest['raw'];
};

export interface RouteSpec<S extends RouteSchema, A extends Access> {
  auth: A;
  schema: S;
  /** Error statuses this route documents besides the ones the kit adds (401/403 when protected, 422, 429). */
  errors?: number[];
  /** Rate limits, checked after the guard (so `by: 'account'` counts the caller). */
  limits?: RouteLimit[];
  /** Hooks after the guard and the limits (for example a module's own checks). */
  onRequest?: onRequestHookHandler[];
  preHandler?: preHandlerHookHandler[];
  bodyLimit?: number;
  /** Another envelope than the module's (an admin API in the platform's). */
  envelope?: Envelope;
  /** Further route config. */
  config?: Record<string, unknown>;
  /**
   * The body as the exact bytes sent (a `Buffer`, any content type, at most `bodyLimit` bytes), for a signature
   * over them; the route gets a scope of its own with that one parser.
   */
  rawBody?: { bodyLimit: number };
}

export interface IdempotencySpec<S extends RouteSchema> {
  /** Names the keys' scope: one key may be used once per caller and scope. */
  scope: string;
  /** What of the body makes two requests the same (default: the whole body as validated). */
  fingerprint?: (body: In<S['body']>) => unknown;
}

/** Access that names a caller (an idempotency key belongs to an account). */
export type CallerAccess = Exclude<Access, 'public'>;

/**
 * A route that honours `Idempotency-Key` (idempotency.ts). The handler gets the claim when the header was sent
 * (and must `complete` it in the transaction of its change) and answers `{status, body}`, which is sent, and
 * stored for a replay.
 */
export type IdempotentHandler<S extends RouteSchema, A extends CallerAccess> = (
  req: Req<S, A>,
  claim: Claim | undefined,
) => Promise<StoredResponse>;

export type Handler<S extends RouteSchema, A extends Access> = (
  req: Req<S, A>,
  reply: FastifyReply,
) => Promise<unknown> | unknown;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Router {
  readonly app: FastifyInstance;
  readonly module: string;
  readonly envelope: Envelope;
  route<S extends RouteSchema, A extends Access>(
    method: Method | Method[],
    url: string,
    spec: RouteSpec<S, A>,
    handler: Handler<S, A>,
  ): void;
  get<S extends RouteSchema, A extends Access>(url: string, spec: RouteSpec<S, A>, handler: Handler<S, A>): void;
  post<S extends RouteSchema, A extends Access>(url: string, spec: RouteSpec<S, A>, handler: Handler<S, A>): void;
  put<S extends RouteSchema, A extends Access>(url: string, spec: RouteSpec<S, A>, handler: Handler<S, A>): void;
  patch<S extends RouteSchema, A extends Access>(url: string, spec: RouteSpec<S, A>, handler: Handler<S, A>): void;
  delete<S extends RouteSchema, A extends Access>(url: string, spec: RouteSpec<S, A>, handler: Handler<S, A>): void;
  /** A route that honours `Idempotency-Key`, keyed per caller and `scope`; the header's schema is added. */
  idempotent<S extends RouteSchema, A extends CallerAccess>(
    method: Method,
    url: string,
    spec: RouteSpec<S, A> & IdempotencySpec<S>,
    handler: IdempotentHandler<S, A>,
  ): void;
}

const showLocalTimes: preSerializationHookHandler<unknown> = (_req, _reply, payload, done) =>
  done(null, localTimes(payload));

export function createRouter(
  app: FastifyInstance,
  core: Core,
  opts: { module: string; envelope: Envelope; tags?: string[] },
): Router {
  const { guards } = core.identity;
  const { db } = core.database;

  function guardFor(access: Access): onRequestHookHandler | undefined {
    if (access === 'public') return undefined;
    const module = access.module ?? opts.module;
    if ('level' in access) {
      return access.apiKey ? guards.bearerOrKey(module, access.level) : guards.bearer(module, access.level);
    }
    return guards.apiKey(module);
  }

  function route<S extends RouteSchema, A extends Access>(
    method: Method | Method[],
    url: string,
    spec: RouteSpec<S, A>,
    handler: Handler<S, A>,
  ): void {
    const envelope = spec.envelope ?? opts.envelope;
    const guard = guardFor(spec.auth);
    const onRequest: onRequestHookHandler[] = [];
    if (guard) onRequest.push(guard);
    for (const limit of spec.limits ?? []) onRequest.push(rateLimit(core.limiter, core.config.rateLimits, limit));
    onRequest.push(...(spec.onRequest ?? []));

    const statuses = new Set(spec.errors ?? []);
    if (guard) {
      statuses.add(401);
      statuses.add(403);
    }
    const { body, params, querystring, headers } = spec.schema;
    if (body || params || querystring || headers) statuses.add(envelope.status?.VALIDATION_ERROR ?? 422);
    if (spec.limits?.length) statuses.add(429);
    const documented = spec.schema.response ?? {};
    const errors = errorResponses(
      envelope,
      [...statuses].filter((s) => documented[s] === undefined),
    );
    const { tags, ...rest } = spec.schema;
    const options: RouteOptions = {
      method,
      url,
      config: { ...spec.config, envelope, access: spec.auth, module: opts.module },
      onRequest,
      preHandler: spec.preHandler,
      // CONTRACTS §6: a module's answers show times in LOKET_TIMEZONE with the offset, whatever the view left as a Date
      // (the platform's own API keeps UTC).
      ...(opts.module === 'platform' ? {} : { preSerialization: showLocalTimes }),
      bodyLimit: spec.bodyLimit,
      schema: {
        ...rest,
        tags: tags ?? opts.tags ?? [opts.module],
        ...(guard ? { security: securityFor(spec.auth) } : {}),
        response: { ...documented, ...errors },
      },
      // The guard above has set `auth` when the access needs it; the schemas have shaped the parts.
      handler: handler as unknown as RouteOptions['handler'],
    };
    const raw = spec.rawBody;
    if (!raw) {
      app.route(options);
      return;
    }
    void app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: raw.bodyLimit }, (_req, body, done) =>
        done(null, body),
      );
      scope.route(options);
    });
  }

  function idempotent<S extends RouteSchema, A extends CallerAccess>(
    method: Method,
    url: string,
    spec: RouteSpec<S, A> & IdempotencySpec<S>,
    handler: IdempotentHandler<S, A>,
  ): void {
    const { scope, fingerprint, ...rest } = spec;
    const schema = { ...spec.schema, headers: spec.schema.headers ?? IdempotencyHeaders };
    // Without the header (most requests) the handler runs as it is: no claim, no closure.
    // 409: the same key while its first request still runs (422, another body, comes with the header's schema).
    const errors = [...(rest.errors ?? []), 409];
    route(method, url, { ...rest, errors, schema }, async (req, reply) => {
      const key = req.headers['idempotency-key'];
      const answer =
        typeof key === 'string' && key !== ''
          ? await runIdempotent(
              db,
              {
                accountId: req.auth.accountId,
                name: scope,
                key,
                body: fingerprint ? fingerprint(req.body) : req.body,
                now: core.now(),
              },
              (claim) => handler(req, claim),
            )
          : await handler(req, undefined);
      return reply.code(answer.status).send(answer.body);
    });
  }

  return {
    app,
    module: opts.module,
    envelope: opts.envelope,
    route,
    get: (url, spec, handler) => route('GET', url, spec, handler),
    post: (url, spec, handler) => route('POST', url, spec, handler),
    put: (url, spec, handler) => route('PUT', url, spec, handler),
    patch: (url, spec, handler) => route('PATCH', url, spec, handler),
    delete: (url, spec, handler) => route('DELETE', url, spec, handler),
    idempotent,
  };
}

const IdempotencyHeaders = Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 128 })) });

function securityFor(access: Access): Record<string, string[]>[] {
  if (access === 'public') return [];
  if (!('level' in access)) return [{ apiKey: [] }];
  return access.apiKey ? [{ bearer: [] }, { apiKey: [] }] : [{ bearer: [] }];
}
