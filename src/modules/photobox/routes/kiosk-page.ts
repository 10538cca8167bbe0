// The kiosk page at /kiosk (public/kiosk/), served by Loket with nothing to build: plain HTML and an ES module,
// plus the QR encoder (uqr, from npm) it imports. `GET /api/v1/kiosk/config` gives a kiosk, authenticated by its
// kiosk key, what the page needs: polling cadence and, when response encryption is on, the key and IV to read the
// encrypted polling answers (the seed's scheme: whoever decrypts holds the key).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { platformEnvelope } from '../../../core/http/envelopes.ts';
import type { Router } from '../../../core/http/route.ts';
import type { PhotoboxDeps } from '../wire.ts';

const POLL_INTERVAL_MS = 3_000;
const MAX_WAIT_MS = 15 * 60_000;

/** `public/kiosk`, found by walking up (the same code runs from `src/` and from `dist/src/`). */
function kioskDir(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'public', 'kiosk');
    try {
      readFileSync(join(candidate, 'index.html'));
      return candidate;
    } catch {
      if (dirname(dir) === dir) throw new Error(`no public/kiosk folder above ${start}`);
    }
  }
}

export function kioskPageRoutes(router: Router, deps: Pick<PhotoboxDeps, 'config'>): void {
  const dir = kioskDir(import.meta.dirname);
  const assets = new Map<string, { body: Buffer; type: string }>([
    ['/kiosk', { body: readFileSync(join(dir, 'index.html')), type: 'text/html; charset=utf-8' }],
    ['/kiosk/kiosk.js', { body: readFileSync(join(dir, 'kiosk.js')), type: 'text/javascript; charset=utf-8' }],
    [
      '/kiosk/uqr.mjs',
      {
        body: readFileSync(fileURLToPath(import.meta.resolve('uqr'))),
        type: 'text/javascript; charset=utf-8',
      },
    ],
  ]);
  for (const [url, asset] of assets) {
    // Outside /api/v1: errors answer in the platform's envelope, as any path the module does not own.
    router.get(url, { auth: 'public', envelope: platformEnvelope, schema: { hide: true } }, async (_req, reply) =>
      reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body),
    );
  }

  const { config } = deps;
  router.get(
    '/api/v1/kiosk/config',
    {
      auth: { apiKey: true },
      schema: {
        summary: "What the kiosk page needs, for a kiosk key: polling cadence and the response encryption's key",
        response: {
          200: Type.Object({
            success: Type.Boolean(),
            message: Type.String(),
            data: Type.Object({
              poll_interval_ms: Type.Integer(),
              max_wait_ms: Type.Integer(),
              encryption: Type.Union([Type.Object({ key: Type.String(), iv: Type.String() }), Type.Null()]),
            }),
          }),
        },
      },
    },
    async () => ({
      success: true,
      message: 'Kiosk configuration',
      data: {
        poll_interval_ms: POLL_INTERVAL_MS,
        max_wait_ms: MAX_WAIT_MS,
        encryption:
          config.encryptionEnabled && config.encryptionKey && config.encryptionIv
            ? { key: config.encryptionKey, iv: config.encryptionIv }
            : null,
      },
    }),
  );
}
