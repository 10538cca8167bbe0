// The photobox module (seed 001), mounted under /api/v1: kiosk transactions paid by QRIS through the payments
// core, locations and prices, photo uploads with an e-mailed gallery, and the document's response encryption.
import type { LoketModule } from '../../core/context.ts';
import { createObjectStore } from '../../core/storage/index.ts';
import { createResponseSealer } from './encryption.ts';
import { registerGalleryPage } from './gallery.ts';
import { registerKioskRoutes } from './kiosk.ts';
import { registerPhotoboxRoutes } from './routes.ts';
import { createPhotoboxService, type PhotoboxService } from './service.ts';

export function createPhotoboxModule(): LoketModule {
  let service: PhotoboxService | undefined;
  return {
    name: 'photobox',
    // The payments webhook at /api/v1/webhooks/xendit belongs to the core but answers in this style too.
    envelopes: [['/api/v1', 'photobox']],
    async register(app, core) {
      const { config } = core;
      const store = createObjectStore(config);
      const sealer =
        config.encryptionEnabled && config.encryptionKey && config.encryptionIv
          ? createResponseSealer({ key: config.encryptionKey, iv: config.encryptionIv })
          : undefined;
      service = createPhotoboxService(core, store);
      const svc = service;
      // Daily, at 02:30 UTC (09:30 WIB): files of expired galleries are removed.
      core.jobs.define({
        name: 'photobox.cleanup',
        cron: '30 2 * * *',
        retryLimit: 5,
        retryDelay: 60,
        expireInSeconds: 3600,
        handler: async () => void (await svc.cleanupExpired()),
      });
      await registerPhotoboxRoutes(app, core, svc, sealer);
      registerKioskRoutes(app, core);
      registerGalleryPage(app, svc);
    },
    async demo(core) {
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
  };
}
