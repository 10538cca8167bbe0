// IM3's response style (seed 004): `{success, request_id, timestamp, data|error, …}`; validation answers 400.
// Error codes are the document's table's (its "Error Codes"): a platform code where the table has a fitting one is
// answered as the table's (BAD_REQUEST as VALIDATION_ERROR, …), the HTTP status kept (DECISIONS).
import { type TSchema, Type } from 'typebox';
import type { Envelope } from '../../core/http/envelopes.ts';
import { localTime } from '../../core/time.ts';

/**
 * The platform's codes that have a fitting row in the document's table. Codes of no row (413, 414, 415, 429, 500,
 * 503) are answered as they are.
 */
const TABLE_CODE: Record<string, string> = {
  BAD_REQUEST: 'VALIDATION_ERROR',
  METHOD_NOT_ALLOWED: 'NOT_FOUND',
  ACCOUNT_DISABLED: 'AUTHORIZATION_ERROR',
};

export const im3Code = (code: string): string => TABLE_CODE[code] ?? code;

export const im3Envelope: Envelope = {
  name: 'im3',
  status: { VALIDATION_ERROR: 400 },
  error: (err, ctx) => ({
    success: false,
    request_id: ctx.requestId,
    timestamp: localTime(new Date()),
    error: { code: im3Code(err.code), message: err.message, details: err.details ?? {} },
  }),
  errorSchema: Type.Object({
    success: Type.Literal(false),
    request_id: Type.String(),
    timestamp: Type.String(),
    error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Unknown() }),
  }),
};

export const im3Ok = <T>(requestId: string, data: T, message: string, meta: Record<string, unknown> = {}) => ({
  success: true as const,
  request_id: requestId,
  timestamp: localTime(new Date()),
  data,
  message,
  meta,
});

export const im3OkSchema = <T extends TSchema>(data: T) =>
  Type.Object({
    success: Type.Literal(true),
    request_id: Type.String(),
    timestamp: Type.String(),
    data,
    message: Type.String(),
    meta: Type.Record(Type.String(), Type.Unknown()),
  });
