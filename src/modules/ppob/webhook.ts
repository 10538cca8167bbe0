// The provider's own callback (Digiflazz: X-Hub-Signature over the raw body). Verified against the exact bytes,
// then recorded through the same function the polling job uses, so a callback and a re-check can arrive in any
// order and any number of times: the purchase becomes final (and is refunded, if it failed) exactly once.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { errorResponses } from '../../core/http/envelopes.ts';
import { AppError } from '../../core/http/errors.ts';
import { ppobEnvelope, ppobOk, ppobOkSchema } from './envelope.ts';
import type { PpobService } from './service.ts';

export function registerProviderWebhook(app: FastifyInstance, service: PpobService) {
  void app.register(async (scope) => {
    // Keep the raw bytes: the signature is over them, not over a re-serialised object.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
    scope.post(
      '/webhooks/ppob-provider',
      {
        config: { envelope: ppobEnvelope },
        schema: {
          tags: ['ppob'],
          summary: 'Callback from the PPOB provider (Digiflazz), verified by X-Hub-Signature',
          response: {
            200: ppobOkSchema(Type.Object({ trx_id: Type.String(), result: Type.String() })),
            ...errorResponses(ppobEnvelope, [401]),
          },
        },
      },
      async (req) => {
        const callback = service.provider.readCallback(req.body as Buffer, req.headers);
        if (!callback) throw new AppError('AUTHENTICATION_ERROR', 'Signature tidak valid');
        const result = await service.record(callback.refId, callback.result);
        return ppobOk({ trx_id: callback.refId, result }, 'Callback diterima');
      },
    );
  });
}
