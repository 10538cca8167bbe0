// The envelope mechanism (CONTRACTS §5): every module answers in its seed's response style, errors included. A
// module brings its own `Envelope` in its definition; a route answers in its module's envelope, and a request that
// matches no route answers in the envelope of the longest registered path prefix. The core's own routes (health,
// admin, tokens) use the platform envelope below. The core knows no module's style.
import { type TSchema, Type } from 'typebox';
import { AppError, type FieldErrors } from './errors.ts';
import type { ValidationWords } from './words.ts';

export interface ErrorContext {
  requestId: string;
  status: number;
  /** Seconds, for 429. */
  retryAfter?: number;
}

export interface Envelope {
  /** For logs and the OpenAPI document. */
  name: string;
  /** Status override per code where a seed documents a different one (for example validation as 400). */
  status?: Record<string, number>;
  error(err: AppError, ctx: ErrorContext): unknown;
  errorSchema: TSchema;
  /** The language of validation messages (words.ts); English when left out. */
  words?: ValidationWords;
}

/** Field errors as a flat list of `{field, message}`, the form most envelopes use. */
export const fieldList = (details: FieldErrors | undefined) =>
  Object.entries(details ?? {}).flatMap(([field, messages]) => messages.map((message) => ({ field, message })));

/**
 * The platform's own style: `{detail, status: "error", error_code}`, validation as `{detail: {message, errors}}`,
 * 429 with `retry_after`. A module whose seed uses the same shape reuses it.
 */
export const platformEnvelope: Envelope = {
  name: 'platform',
  error: (err, ctx) => {
    if (err.details) {
      return {
        detail: { message: err.message, errors: fieldList(err.details) },
        status: 'error',
        error_code: err.code,
      };
    }
    if (ctx.status === 429) {
      return {
        detail: 'Rate limit exceeded',
        retry_after: ctx.retryAfter ?? 60,
        status: 'error',
        error_code: err.code,
      };
    }
    return { detail: err.message, status: 'error', error_code: err.code };
  },
  errorSchema: Type.Object({
    detail: Type.Union([Type.String(), Type.Object({ message: Type.String(), errors: Type.Array(Type.Unknown()) })]),
    status: Type.Literal('error'),
    error_code: Type.String(),
    retry_after: Type.Optional(Type.Integer()),
  }),
};

export function statusOf(envelope: Envelope, err: AppError): number {
  return envelope.status?.[err.code] ?? err.status;
}

/** The error responses a route may give, in its envelope, for the OpenAPI document. */
export function errorResponses(envelope: Envelope, statuses: number[] = [400, 401, 403, 404, 422, 429]) {
  const out: Record<number, TSchema> = {};
  for (const s of statuses) out[s] = envelope.errorSchema;
  return out;
}

// ---- which envelope answers a path that matched no route -------------------------------------------------------

export class EnvelopePrefixes {
  private readonly entries: { prefix: string; envelope: Envelope }[] = [];
  private readonly fallback: Envelope;
  constructor(fallback: Envelope) {
    this.fallback = fallback;
  }

  add(prefix: string, envelope: Envelope): void {
    this.entries.push({ prefix, envelope });
    this.entries.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  envelopeFor(path: string): Envelope {
    for (const e of this.entries) {
      if (path === e.prefix || path.startsWith(e.prefix.endsWith('/') ? e.prefix : `${e.prefix}/`)) return e.envelope;
    }
    return this.fallback;
  }
}

export { AppError };
