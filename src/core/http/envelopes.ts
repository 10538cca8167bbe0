// The five response styles of the seed systems (CONTRACTS §5), errors included. A route names its style in its
// route config (`config: { envelope: 'ppob' }`); requests that match no route are answered in the style of the
// longest registered path prefix. The platform's own routes (health, admin, tokens) use the billing style.
import { type TSchema, Type } from 'typebox';
import { AppError, type FieldErrors } from './errors.ts';

export type EnvelopeStyle = 'ppob' | 'photobox' | 'staff' | 'billing' | 'im3';

export interface ErrorContext {
  requestId: string;
  status: number;
  /** Seconds, for 429. */
  retryAfter?: number;
}

interface Style {
  /** Status override per code where the seed documents a different one (IM3: validation is 400). */
  status?: Record<string, number>;
  error(err: AppError, ctx: ErrorContext): unknown;
  errorSchema: TSchema;
}

const fieldList = (details: FieldErrors | undefined) =>
  Object.entries(details ?? {}).flatMap(([field, messages]) => messages.map((message) => ({ field, message })));

export const STYLES: Record<EnvelopeStyle, Style> = {
  ppob: {
    error: (err, ctx) => ({
      code: ctx.status,
      status: 'error',
      message: err.message,
      data: err.details ? { errors: fieldList(err.details) } : null,
    }),
    errorSchema: Type.Object({
      code: Type.Integer(),
      status: Type.Literal('error'),
      message: Type.String(),
      data: Type.Union([Type.Null(), Type.Object({ errors: Type.Array(Type.Unknown()) })]),
    }),
  },
  photobox: {
    error: (err) => ({
      success: false,
      message: err.message,
      data: null,
      ...(err.details ? { errors: fieldList(err.details) } : {}),
    }),
    errorSchema: Type.Object({
      success: Type.Literal(false),
      message: Type.String(),
      data: Type.Null(),
      errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    }),
  },
  staff: {
    // FastAPI's own shapes: a string detail, or for validation a list of {loc, msg, type}.
    error: (err) =>
      err.details
        ? {
            detail: Object.entries(err.details).flatMap(([field, messages]) =>
              messages.map((msg) => ({ loc: ['body', ...field.split('.')], msg, type: 'value_error' })),
            ),
          }
        : { detail: err.message },
    errorSchema: Type.Object({ detail: Type.Union([Type.String(), Type.Array(Type.Unknown())]) }),
  },
  billing: {
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
  },
  im3: {
    status: { VALIDATION_ERROR: 400 },
    error: (err, ctx) => ({
      success: false,
      request_id: ctx.requestId,
      timestamp: isoSeconds(new Date()),
      error: { code: err.code, message: err.message, details: err.details ?? {} },
    }),
    errorSchema: Type.Object({
      success: Type.Literal(false),
      request_id: Type.String(),
      timestamp: Type.String(),
      error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Unknown() }),
    }),
  },
};

export function isoSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

export function statusOf(style: EnvelopeStyle, err: AppError): number {
  return STYLES[style].status?.[err.code] ?? err.status;
}

// ---- success bodies -------------------------------------------------------------------------------------------

export const ppobOk = <T>(data: T, message: string, code = 200) => ({
  code,
  status: 'success' as const,
  message,
  data,
});

export const photoboxOk = <T>(data: T, message: string) => ({ success: true as const, message, data });

export const im3Ok = <T>(requestId: string, data: T, message: string, meta: Record<string, unknown> = {}) => ({
  success: true as const,
  request_id: requestId,
  timestamp: isoSeconds(new Date()),
  data,
  message,
  meta,
});

// ---- response schemas for the OpenAPI document ----------------------------------------------------------------

export const ppobOkSchema = <T extends TSchema>(data: T) =>
  Type.Object({ code: Type.Integer(), status: Type.Literal('success'), message: Type.String(), data });

export const photoboxOkSchema = <T extends TSchema>(data: T) =>
  Type.Object({ success: Type.Literal(true), message: Type.String(), data });

export const im3OkSchema = <T extends TSchema>(data: T) =>
  Type.Object({
    success: Type.Literal(true),
    request_id: Type.String(),
    timestamp: Type.String(),
    data,
    message: Type.String(),
    meta: Type.Record(Type.String(), Type.Unknown()),
  });

/** The error responses a route may give, in its style, for the OpenAPI document. */
export function errorResponses(style: EnvelopeStyle, statuses: number[] = [400, 401, 403, 404, 422, 429]) {
  const out: Record<number, TSchema> = {};
  for (const s of statuses) out[s] = STYLES[style].errorSchema;
  return out;
}

// ---- which style answers a path that matched no route ----------------------------------------------------------

export class EnvelopePrefixes {
  private readonly entries: { prefix: string; style: EnvelopeStyle }[] = [];
  private readonly fallback: EnvelopeStyle;
  constructor(fallback: EnvelopeStyle) {
    this.fallback = fallback;
  }

  add(prefix: string, style: EnvelopeStyle): void {
    this.entries.push({ prefix, style });
    this.entries.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  styleFor(path: string): EnvelopeStyle {
    for (const e of this.entries) {
      if (path === e.prefix || path.startsWith(e.prefix.endsWith('/') ? e.prefix : `${e.prefix}/`)) return e.style;
    }
    return this.fallback;
  }
}

export { AppError };
