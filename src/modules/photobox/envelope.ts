// Photobox's response style (seed 001): `{success, message, data}`, errors included.
import { type TSchema, Type } from 'typebox';
import { type Envelope, fieldList } from '../../core/http/envelopes.ts';

export const photoboxEnvelope: Envelope = {
  name: 'photobox',
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
};

export const photoboxOk = <T>(data: T, message: string) => ({ success: true as const, message, data });

export const photoboxOkSchema = <T extends TSchema>(data: T) =>
  Type.Object({ success: Type.Literal(true), message: Type.String(), data });
