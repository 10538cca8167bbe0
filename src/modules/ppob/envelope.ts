// PPOB's response style (seed 000): `{code, status, message, data}`, errors included.
import { type TSchema, Type } from 'typebox';
import { type Envelope, fieldList } from '../../core/http/envelopes.ts';
import { INDONESIAN } from '../../core/http/words.ts';

export const ppobEnvelope: Envelope = {
  name: 'ppob',
  words: INDONESIAN,
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
};

export const ppobOk = <T>(data: T, message: string, code = 200) => ({
  code,
  status: 'success' as const,
  message,
  data,
});

export const ppobOkSchema = <T extends TSchema>(data: T) =>
  Type.Object({ code: Type.Integer(), status: Type.Literal('success'), message: Type.String(), data });
