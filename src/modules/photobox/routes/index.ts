// HTTP for the photobox module: the document's paths under /api/v1 and its `{success, message, data}` envelope.
// Reads need photobox level 1, writes level 50; the kiosk's routes also take a kiosk's x-api-key; polling, the
// gallery and the photo files are public (the photo URLs carry an unguessable token). Plus the kiosk page and the
// gallery page the e-mail links to.
import type { Core } from '../../../core/context.ts';
import type { Router } from '../../../core/http/route.ts';
import type { PhotoboxDeps } from '../wire.ts';
import { catalogRoutes } from './catalog.ts';
import { galleryPageRoutes } from './gallery-page.ts';
import { kioskPageRoutes } from './kiosk-page.ts';
import { kioskReader } from './kiosk-read.ts';
import { kioskRoutes } from './kiosks.ts';
import { latePaymentRoutes } from './late-payments.ts';
import { photoRoutes } from './photos.ts';
import { transactionRoutes } from './transactions.ts';

export async function registerPhotoboxRoutes(router: Router, deps: PhotoboxDeps, core: Core): Promise<void> {
  const sendKioskRead = kioskReader(deps.sealer, deps.config.corsOrigins.length > 0);
  transactionRoutes(router, deps, sendKioskRead);
  latePaymentRoutes(router, deps);
  await photoRoutes(router, deps, core, sendKioskRead);
  catalogRoutes(router, deps);
  kioskRoutes(router, deps);
  kioskPageRoutes(router, deps);
  galleryPageRoutes(router, deps);
}
