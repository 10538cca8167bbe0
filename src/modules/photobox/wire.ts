// Builds the photobox module's dependencies once: the object store, the response sealer and the polling cache (kept
// fresh by the bus). Use cases take what they need from the result. The payments listener is registered when the
// app is ready (index.ts), so building the dependencies has no effect beyond them.
import type { Core } from '../../core/context.ts';
import { createObjectStore, type ObjectStore } from '../../core/storage/index.ts';
import { STATUS_TOPIC } from './constants.ts';
import { createResponseSealer, type ResponseSealer } from './encryption.ts';
import { createStatusCache, type StatusCache } from './status-cache.ts';
import type { StatusView } from './views.ts';

export interface PhotoboxDeps {
  db: Core['database']['db'];
  /** The driver's pool, for the one hot read that skips the query builder (polling). */
  pool: Core['database']['pool'];
  now: () => Date;
  config: Core['config'];
  logger: Core['logger'];
  outbox: Core['outbox'];
  payments: Core['payments'];
  identity: Core['identity'];
  bus: Core['bus'];
  store: ObjectStore;
  /** The document's response encryption, when ENCRYPTION_ENABLED is on with a key and an IV. */
  sealer: ResponseSealer | undefined;
  /** Polling answers in memory: dropped on every instance once a status change has committed. */
  polls: StatusCache<StatusView>;
  pollCounter: { hit(): void; miss(): void };
  links: { photo(token: string): string; gallery(externalId: string): string };
}

export function wirePhotobox(core: Core): PhotoboxDeps {
  const { config } = core;
  const sealer =
    config.encryptionEnabled && config.encryptionKey && config.encryptionIv
      ? createResponseSealer({ key: config.encryptionKey, iv: config.encryptionIv })
      : undefined;

  const polls = createStatusCache<StatusView>({ maxEntries: 50_000, pendingMaxAgeMs: 60_000 });
  core.bus.subscribe(STATUS_TOPIC, (p) => polls.invalidate(String(p.id)));
  core.bus.onGap(() => polls.forgetPending());
  const hits = core.metrics.cacheLookups.labels({ cache: 'photobox_status', result: 'hit' });
  const misses = core.metrics.cacheLookups.labels({ cache: 'photobox_status', result: 'miss' });

  const deps: PhotoboxDeps = {
    db: core.database.db,
    pool: core.database.pool,
    now: () => core.now(),
    config,
    logger: core.logger,
    outbox: core.outbox,
    payments: core.payments,
    identity: core.identity,
    bus: core.bus,
    store: createObjectStore(config),
    sealer,
    polls,
    pollCounter: { hit: () => hits.inc(), miss: () => misses.inc() },
    links: {
      photo: (token) => `${config.publicUrl}/api/v1/photos/${token}`,
      gallery: (externalId) => config.photoboxGalleryUrl.replaceAll('{external_id}', encodeURIComponent(externalId)),
    },
  };
  return deps;
}
