// Staff's response style (seed 002): FastAPI's own shapes, a string `detail`, or for validation a list of
// `{loc, msg, type}`.
import { Type } from 'typebox';
import type { Envelope } from '../../core/http/envelopes.ts';
import { INDONESIAN } from '../../core/http/words.ts';

export const staffEnvelope: Envelope = {
  name: 'staff',
  words: INDONESIAN,
  error: (err) =>
    err.details
      ? {
          detail: Object.entries(err.details).flatMap(([field, messages]) =>
            messages.map((msg) => ({ loc: [err.location ?? 'body', ...field.split('.')], msg, type: 'value_error' })),
          ),
        }
      : { detail: err.message },
  errorSchema: Type.Object({ detail: Type.Union([Type.String(), Type.Array(Type.Unknown())]) }),
};
