// The photobox module (seed 001), mounted under /api/v1: kiosk transactions paid by QRIS through the payments
// core, locations and prices, photo uploads with an e-mailed gallery, and the document's response encryption.
import { Type } from 'typebox';
import { defineModule } from '../../core/module.ts';
import { createObjectStore } from '../../core/storage/index.ts';
import { readFlatCallback } from './callbacks.ts';
import { createResponseSealer } from './encryption.ts';
import { photoboxEnvelope, photoboxOk, photoboxOkSchema } from './envelope.ts';
import { registerGalleryPage } from './gallery.ts';
import { registerKioskRoutes } from './kiosk.ts';
import { registerPhotoboxRoutes } from './routes.ts';
import { createPhotoboxService } from './service.ts';

export const photoboxModule = defineModule({
  name: 'photobox',
  envelope: photoboxEnvelope,
  prefixes: ['/api/v1'],
  // The document's own webhook body, and the payments webhook answered in this envelope at the document's path.
  callbacks: [readFlatCallback],
  webhook: {
    paths: ['/api/v1/webhooks/xendit', '/webhooks/xendit'],
    ok: (result) => photoboxOk({ external_id: result.reference ?? null, outcome: result.outcome }, result.message),
    okSchema: photoboxOkSchema(
      Type.Object({ external_id: Type.Union([Type.String(), Type.Null()]), outcome: Type.String() }),
    ),
  },
  wire(core) {
    const { config } = core;
    const store = createObjectStore(config);
    const sealer =
      config.encryptionEnabled && config.encryptionKey && config.encryptionIv
        ? createResponseSealer({ key: config.encryptionKey, iv: config.encryptionIv })
        : undefined;
    return { service: createPhotoboxService(core, store), sealer };
  },
  jobs: ({ service }) => [
    // Daily, at 02:30 UTC (09:30 WIB): files of expired galleries are removed.
    {
      name: 'photobox.cleanup',
      cron: '30 2 * * *',
      retryLimit: 5,
      retryDelay: 60,
      expireInSeconds: 3600,
      handler: async () => void (await service.cleanupExpired()),
    },
  ],
  async routes(router, { service, sealer }, core) {
    await registerPhotoboxRoutes(router.app, core, service, sealer);
    registerKioskRoutes(router.app, core);
    registerGalleryPage(router.app, service);
  },
  async demo(_deps, core) {
    const { db } = core.database;
    const any = await db.selectFrom('photobox_locations').select('ml_id').limit(1).executeTakeFirst();
    if (any) return;
    const at = core.now();
    await db
      .insertInto('photobox_locations')
      .values([
        {
          ml_name: 'Mall Taman Anggrek',
          ml_address: 'Jl. Letjen S. Parman Kav. 21, Jakarta Barat',
          ml_machine_code: 'PB-MTA-01',
          ml_created_at: at,
          ml_updated_at: at,
        },
        {
          ml_name: 'Mall Kelapa Gading',
          ml_address: 'Jl. Boulevard Kelapa Gading, Jakarta Utara',
          ml_machine_code: 'PB-MKG-01',
          ml_created_at: at,
          ml_updated_at: at,
        },
      ])
      .execute();
    await db
      .insertInto('photobox_prices')
      .values([
        {
          mp_name: 'Paket Reguler (4 foto)',
          mp_amount: 40_000,
          mp_quota: null,
          mp_created_at: at,
          mp_updated_at: at,
        },
        { mp_name: 'Paket Promo Akhir Pekan', mp_amount: 25_000, mp_quota: 50, mp_created_at: at, mp_updated_at: at },
      ])
      .execute();
  },
});
