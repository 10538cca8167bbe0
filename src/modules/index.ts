import type { ModuleName } from '../config.ts';
import type { AnyModule } from '../core/module.ts';

/**
 * The modules this build contains, loaded lazily so that a disabled module costs nothing. A module named in
 * LOKET_MODULES but missing here is reported at start-up.
 */
export const MODULE_LOADERS: Partial<Record<ModuleName, () => Promise<AnyModule>>> = {
  ppob: async () => (await import('./ppob/index.ts')).ppobModule,
  photobox: async () => (await import('./photobox/index.ts')).photoboxModule,
  staff: async () => (await import('./staff/index.ts')).staffModule,
  billing: async () => (await import('./billing/index.ts')).billingModule,
  im3: async () => (await import('./im3/index.ts')).im3Module,
};
