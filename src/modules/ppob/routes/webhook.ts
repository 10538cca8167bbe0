// The provider's own callback (Digiflazz: X-Hub-Signature over the raw body). Verified against the exact bytes,
// then recorded through the same function the polling job uses, so a callback and a re-check can arrive in any
// order and any number of times: the purchase becomes final (and is refunded, if it failed) exactly once.
import { Type } from 'typebox';
import { AppError } from '../../../core/http/errors.ts';
import type { Router } from '../../../core/http/route.ts';
import { ppobOk, ppobOkSchema } from '../envelope.ts';
import { record } from '../use-cases/record-results.ts';
import type { PpobDeps } from '../wire.ts';

const invalid = () => new AppError('AUTHENTICATION_ERROR', 'Signature tidak valid');

export function registerProviderWebhook(router: Router, d: PpobDeps) {
  router.post(
    '/webhooks/ppob-provider',
    {
      auth: 'public',
      // Keep the raw bytes: the signature is over them, not over a re-serialised object.
      rawBody: { bodyLimit: 64 * 1024 },
      errors: [401],
      schema: {
        summary: 'Callback from the PPOB provider (Digiflazz), verified by X-Hub-Signature',
        response: { 200: ppobOkSchema(Type.Object({ trx_id: Type.String(), result: Type.String() })) },
      },
    },
    async (req) => {
      if (!Buffer.isBuffer(req.body)) throw invalid();
      const callback = d.provider.readCallback(req.body, req.headers);
      if (!callback) throw invalid();
      const result = await record(d, callback.refId, callback.result);
      return ppobOk({ trx_id: callback.refId, result }, 'Callback diterima');
    },
  );
}
