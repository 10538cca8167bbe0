// The two kiosk reads (polling and the gallery) answer plain JSON, or, when ENCRYPTION_ENABLED is on, the
// document's `{"data": base64}` plus the HMAC header (encryption.ts).
import type { FastifyReply } from 'fastify';
import type { ResponseSealer } from '../encryption.ts';
import { SIGNATURE_HEADER } from '../encryption.ts';

export function kioskReader(sealer: ResponseSealer | undefined, exposeSignature: boolean) {
  // A polling answer served from the status cache is the same object each time: its text (and ciphertext) is
  // computed once per cached answer.
  const rendered = new WeakMap<object, { body: string; signature?: string }>();
  return function sendKioskRead(reply: FastifyReply, body: unknown, memo?: object) {
    let out = memo ? rendered.get(memo) : undefined;
    if (!out) {
      const json = JSON.stringify(body);
      out = sealer ? sealer.seal(json) : { body: json };
      if (memo) rendered.set(memo, out);
    }
    reply.type('application/json; charset=utf-8').header('cache-control', 'no-store');
    if (!out.signature) return reply.send(out.body);
    reply.header(SIGNATURE_HEADER, out.signature);
    if (exposeSignature)
      reply.header('access-control-expose-headers', `x-request-id, retry-after, ${SIGNATURE_HEADER}`);
    return reply.send(out.body);
  };
}
