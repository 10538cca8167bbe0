// The photobox module (seed 001), mounted under /api/v1: kiosk transactions paid by QRIS through the payments
// core, locations and prices, photo uploads with an e-mailed gallery, and the document's response encryption.
import { Type } from 'typebox';
import { defineModule } from '../../core/module.ts';
import { readFlatCallback } from './callbacks.ts';
import { MODULE } from './constants.ts';
import { photoboxEnvelope, photoboxOk, photoboxOkSchema } from './envelope.ts';
import { PHOTOBOX_LIMITS } from './limits.ts';
import * as repo from './repo/index.ts';
import { registerPhotoboxRoutes } from './routes/index.ts';
import { cleanupJob } from './use-cases/cleanup.ts';
import { onPaymentChanged } from './use-cases/payment-changed.ts';
import { wirePhotobox } from './wire.ts';

export const photoboxModule = defineModule({
  name: MODULE,
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
  limits: PHOTOBOX_LIMITS,
  wire: wirePhotobox,
  jobs: (deps) => [cleanupJob(deps)],
  routes: (router, deps, core) => registerPhotoboxRoutes(router, deps, core),
  // The payments core tells us, inside its transaction, when a transaction's QRIS payment changed. Registered once
  // the app is ready: before that no webhook is taken and no job runs.
  async onReady(deps) {
    deps.payments.register(MODULE, (trx, intent) => onPaymentChanged(deps, trx, intent));
  },
  async demo(deps) {
    const { db } = deps;
    if (await repo.hasLocations(db)) return;
    const at = deps.now();
    for (const l of [
      {
        ml_name: 'Mall Taman Anggrek',
        ml_address: 'Jl. Letjen S. Parman Kav. 21, Jakarta Barat',
        ml_machine_code: 'PB-MTA-01',
      },
      {
        ml_name: 'Mall Kelapa Gading',
        ml_address: 'Jl. Boulevard Kelapa Gading, Jakarta Utara',
        ml_machine_code: 'PB-MKG-01',
      },
    ]) {
      await repo.insertLocation(db, { ...l, ml_is_active: true }, at);
    }
    for (const p of [
      { mp_name: 'Paket Reguler (4 foto)', mp_amount: 40_000, mp_quota: null },
      { mp_name: 'Paket Promo Akhir Pekan', mp_amount: 25_000, mp_quota: 50 },
    ]) {
      await repo.insertPrice(db, { ...p, mp_is_active: true }, at);
    }
  },
});
