// Request ids, the one error handler, 404/405 in the right envelope, and request metrics.
import type { IncomingMessage } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay from 'find-my-way';
import type { Metrics } from '../ops/metrics.ts';
import { type Envelope, type EnvelopePrefixes, statusOf } from './envelopes.ts';
import { AppError, type FieldErrors, fromDatabaseError, type RequestPart } from './errors.ts';
import type { Access } from './route.ts';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './validation.ts';
import { ENGLISH, type Issue, type ValidationWords } from './words.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Response envelope of this route (CONTRACTS §5), set by the route kit. Default: by path prefix. */
    envelope?: Envelope;
    /** Who may call the route, as declared to the route kit (the shared security suite walks these). */
    access?: Access;
    /** The module whose router registered the route. */
    module?: string;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a caller's x-request-id when it is sane, so a request can be followed across systems. */
export function requestIdFrom(header: string | string[] | undefined, fresh: () => string): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && REQUEST_ID.test(value) ? value : fresh();
}

type AjvIssue = Issue;

/**
 * Validation findings as field → one message each, in words a client developer can act on. A value that none of
 * a union's branches took (a nullable field, typically) is one message ("must be string or null"), not one per
 * branch plus Ajv's "must match a schema in anyOf".
 */
export function fieldErrors(
  issues: AjvIssue[],
  context: string | undefined,
  words: ValidationWords = ENGLISH,
): FieldErrors {
  const unions = new Set(issues.filter((i) => i.keyword === 'anyOf').map((i) => i.instancePath ?? ''));
  const branchTypes = new Map<string, string[]>();
  // A Map, not an object: a field may be named `constructor` or `__proto__` (an unexpected field of a hostile body).
  const out = new Map<string, string[]>();
  const add = (key: string, message: string) => {
    const list = out.get(key) ?? [];
    if (!list.includes(message)) list.push(message);
    out.set(key, list);
  };
  for (const issue of issues) {
    const at = issue.instancePath ?? '';
    let path = at.replace(/^\//, '').replaceAll('/', '.');
    let message: string;
    if (unions.has(at) && (issue.keyword === 'anyOf' || issue.schemaPath?.includes('/anyOf/'))) {
      // Gather the union's type findings; a branch's other finding (too long, wrong format) says more.
      if (issue.keyword === 'type') {
        const t = issue.params?.type;
        const list = branchTypes.get(at) ?? [];
        for (const x of Array.isArray(t) ? t : [t]) if (!list.includes(String(x))) list.push(String(x));
        branchTypes.set(at, list);
        continue;
      }
      if (issue.keyword === 'anyOf') continue;
      message = words.say(issue);
    } else if (issue.keyword === 'required' && typeof issue.params?.missingProperty === 'string') {
      path = path ? `${path}.${issue.params.missingProperty}` : issue.params.missingProperty;
      message = words.required;
    } else if (issue.keyword === 'additionalProperties' && typeof issue.params?.additionalProperty === 'string') {
      path = path ? `${path}.${issue.params.additionalProperty}` : issue.params.additionalProperty;
      message = words.notAllowed;
    } else {
      message = words.say(issue);
    }
    add(path || (context === 'body' ? 'body' : (context ?? 'request')), message);
  }
  for (const [at, types] of branchTypes) {
    const key = at.replace(/^\//, '').replaceAll('/', '.') || (context === 'body' ? 'body' : (context ?? 'request'));
    if (!out.get(key)?.length) out.set(key, [words.types(types)]);
  }
  // One message per field: the first finding is the one to fix first. (fromEntries defines own properties, so a
  // field named `__proto__` stays a field.)
  return Object.fromEntries([...out].map(([key, messages]) => [key, messages.slice(0, 1)]));
}

/** Fastify's validation contexts in FastAPI's `loc` words. */
const PARTS: Record<string, RequestPart | undefined> = {
  params: 'path',
  querystring: 'query',
  headers: 'header',
  body: 'body',
};

/** Turns whatever was thrown into an AppError; the second value says whether it was unexpected (a 5xx). */
export function toAppError(err: unknown, words: ValidationWords = ENGLISH): { error: AppError; unexpected: boolean } {
  if (err instanceof AppError) return { error: err, unexpected: err.status >= 500 };
  const fe = err as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
  if (Array.isArray(fe?.validation)) {
    const details = fieldErrors(fe.validation, fe.validationContext, words);
    const where = fe.validationContext ?? 'request';
    const location = PARTS[where];
    return {
      error: new AppError('VALIDATION_ERROR', words.invalid(where, summary(details)), { details, location }),
      unexpected: false,
    };
  }
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { error: new AppError('PAYLOAD_TOO_LARGE', 'Request body is too large'), unexpected: false };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        error: new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported Content-Type; send application/json'),
        unexpected: false,
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { error: new AppError('BAD_REQUEST', 'Request body is not valid JSON'), unexpected: false };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        error: new AppError('BAD_REQUEST', 'Request body is empty but Content-Type is application/json'),
        unexpected: false,
      };
    case 'FST_ERR_BAD_URL':
      return {
        error: new AppError('BAD_REQUEST', 'The URL is not valid: a part of its path is not valid percent-encoding'),
        unexpected: false,
      };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { error: new AppError('URI_TOO_LONG', 'A part of the URL path is too long'), unexpected: false };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { error: new AppError('BAD_REQUEST', 'Content-Length does not match the body'), unexpected: false };
  }
  const db = fromDatabaseError(err);
  if (db) return { error: db, unexpected: db.status >= 500 };
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 429) return { error: new AppError('RATE_LIMITED', 'Too many requests; slow down'), unexpected: false };
  if (status >= 400 && status < 500) {
    const code = status === 401 ? 'AUTHENTICATION_ERROR' : status === 403 ? 'AUTHORIZATION_ERROR' : 'BAD_REQUEST';
    return { error: new AppError(code, fe.message || 'Bad request'), unexpected: false };
  }
  return { error: new AppError('INTERNAL_ERROR', 'Internal server error'), unexpected: true };
}

function summary(details: FieldErrors): string {
  return Object.entries(details)
    .map(([field, msgs]) => `${field} ${msgs.join(', ')}`)
    .join('; ');
}

/** Up to what is read of a refused body before the connection is closed instead. */
const DISCARD_MAX_BYTES = 256 * 1024 * 1024;
const DISCARD_MAX_MS = 30_000;

/** Reads and drops the rest of a request body (bounded in bytes and time). */
function discardBody(raw: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      raw.removeListener('data', onData);
      raw.removeListener('end', done);
      raw.removeListener('error', done);
      raw.removeListener('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DISCARD_MAX_BYTES) done();
    };
    const timer = setTimeout(done, DISCARD_MAX_MS);
    raw.on('data', onData);
    raw.once('end', done);
    raw.once('error', done);
    raw.once('close', done);
    raw.resume();
  });
}

export function sendError(
  reply: FastifyReply,
  envelope: Envelope,
  error: AppError,
  extra: { retryAfter?: number } = {},
): FastifyReply {
  const status = statusOf(envelope, error);
  if (error.headers) reply.headers(error.headers);
  const retryAfter =
    extra.retryAfter ?? (error.headers?.['retry-after'] ? Number(error.headers['retry-after']) : undefined);
  const body = envelope.error(error, { requestId: String(reply.request.id), status, retryAfter });
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/**
 * For `Fastify({ frameworkErrors })`: a URL the router cannot read (broken percent-encoding, a path parameter past
 * `maxParamLength`) is answered in the envelope of its path, like every other error, instead of Fastify's own body.
 */
export function frameworkErrors(prefixes: EnvelopePrefixes) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const envelope = prefixes.envelopeFor(request.url.split('?')[0] ?? '/');
    const { error } = toAppError(err, envelope.words);
    request.log.info({ code: error.code, status: error.status }, error.message);
    sendError(reply, envelope, error);
  };
}

export function envelopeOf(request: FastifyRequest, prefixes: EnvelopePrefixes): Envelope {
  return request.routeOptions.config?.envelope ?? prefixes.envelopeFor(request.url.split('?')[0] ?? '/');
}

export function registerHttpCore(app: FastifyInstance, deps: { prefixes: EnvelopePrefixes; metrics: Metrics }): void {
  const { prefixes, metrics } = deps;
  // JSON bodies: Fastify's own parser (prototype poisoning refused), after a one-pass nesting check so that a
  // hostile body (thousands of levels) is refused before anything recursive touches it.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    // A client that labels an empty body as JSON (a POST without a body from a frontend's HTTP helper) sent no body,
    // as FastAPI reads it: a route without one works, a route that needs one says the body is missing (CONTRACTS §6).
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    if (jsonDepthExceeds(text)) {
      done(new AppError('BAD_REQUEST', `Request body nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    parseJson(request, text, done);
  });
  // A second router that only knows which paths exist, to tell "wrong method" (405) from "no such path" (404).
  const shadow = FindMyWay();
  const noop = () => {};
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) {
      try {
        shadow.on(m as 'GET', route.url, noop);
      } catch {
        // already known (HEAD twins, aliases)
      }
    }
  });

  // Callback-style hooks: they run on every request, and an async hook costs a promise each time.
  const { lifecycle } = app.loket;
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // Draining before a shutdown: every answer ends its connection, so a client or load balancer reconnects,
    // to another instance once /ready has told it this one is going.
    if (lifecycle.draining) reply.header('connection', 'close');
    done();
  });

  // One labelled series per route pattern, status and method, found through nested maps (no key string built per
  // request) instead of prom-client hashing a label object twice per request.
  type Series = { count: { inc(): void }; duration: { observe(v: number): void } };
  const series = new Map<string, Map<number, Map<string, Series>>>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    let byStatus = series.get(route);
    if (!byStatus) {
      byStatus = new Map();
      series.set(route, byStatus);
    }
    let byMethod = byStatus.get(reply.statusCode);
    if (!byMethod) {
      byMethod = new Map();
      byStatus.set(reply.statusCode, byMethod);
    }
    let s = byMethod.get(request.method);
    if (!s) {
      const labels = { method: request.method, route, status: String(reply.statusCode) };
      s = { count: metrics.httpRequests.labels(labels), duration: metrics.httpDuration.labels(labels) };
      byMethod.set(request.method, s);
    }
    s.count.inc();
    s.duration.observe(reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((err, request, reply) => {
    const envelope = envelopeOf(request, prefixes);
    const { error, unexpected } = toAppError(err, envelope.words);
    // A fault of Loket is an error with its stack; an answer to the client's mistake (or a refusal by an outside
    // system it asked for) is a warning with the code only.
    if (unexpected) request.log.error({ err }, 'request failed');
    else request.log.warn({ code: error.code, status: error.status }, error.message);
    // A body over the limit is refused before it has all arrived. Answering at once and closing would reset a client
    // that is still sending (Node's fetch reports EPIPE, never the 413): the rest is read and dropped first.
    if (error.status === 413 && !request.raw.complete && !request.raw.readableEnded && !request.raw.destroyed) {
      return discardBody(request.raw).then(() => sendError(reply, envelope, error));
    }
    return sendError(reply, envelope, error);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => shadow.find(m as 'GET', path));
    const envelope = prefixes.envelopeFor(path);
    // FastAPI's habit (CONTRACTS §6): a path declared with a trailing slash also answers without it, and the
    // reverse, by a 307 to the declared form (method and body kept). The Location is relative (no scheme or host),
    // so a client behind a TLS proxy follows it over HTTPS.
    const other = path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
    if (allowed.length === 0 && other !== '' && shadow.find(request.method as 'GET', other)) {
      const query = request.url.slice(path.length);
      return reply.code(307).header('location', `${other}${query}`).send();
    }
    if (allowed.length > 0) {
      const error = new AppError('METHOD_NOT_ALLOWED', `Method ${request.method} is not allowed here`, {
        headers: { allow: allowed.join(', ') },
      });
      return sendError(reply, envelope, error);
    }
    return sendError(reply, envelope, new AppError('NOT_FOUND', `No route for ${request.method} ${path}`));
  });
}
