// Values computed from the database and shared by many requests: in process memory (the embedded default, one
// instance) or in Redis (every instance sees what one computed). Two shapes:
//
// - `refreshing`: one value (a dashboard) served from its last computation while exactly one recomputation runs
//   (stale-while-revalidate), never older than `maxAgeMs` counted from the start of the computation that made it. So
//   anything committed before a moment is in every value served `maxAgeMs` after it, whatever the load.
// - `versioned`: values per key (a search) served only while the caller's version of what they depend on is the one
//   they were computed under; the caller decides whether a fresh computation may be kept (`keep`).
//
// Both are single-flight: callers that arrive while a computation runs share it, in one process; with Redis, a lease
// makes one instance compute a `refreshing` value while the others serve theirs or wait for it.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Where shared entries live. Values are plain JSON data (a `revive` turns them back into what the caller uses). */
export interface CacheStore {
  /** Whether other processes share it (then entries come back through JSON). */
  readonly shared: boolean;
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  /** A lease on `key` for `ttlMs` unless another holder has it: its token, or undefined. */
  lease(key: string, ttlMs: number): Promise<string | undefined>;
  release(key: string, token: string): Promise<void>;
}

/** Redis when there is one (keys under `prefix`), else this process's memory (at most `maxEntries` values). */
export function cacheStore(redis: Redis | undefined, prefix: string, maxEntries = 10_000): CacheStore {
  if (redis) {
    // Redis is glue, not the source of truth: when a command fails, a read finds nothing, a write is dropped and a
    // lease is granted, so callers compute from the database themselves (the connection logs the problem).
    return {
      shared: true,
      async get(key) {
        const raw = await redis.get(prefix + key).catch(() => null);
        return raw === null ? undefined : (JSON.parse(raw) as unknown);
      },
      async set(key, value, ttlMs) {
        await redis.set(prefix + key, JSON.stringify(value), 'PX', Math.max(1, Math.ceil(ttlMs))).catch(() => {});
      },
      async lease(key, ttlMs) {
        const token = randomBytes(9).toString('base64url');
        const ok = await redis
          .set(`${prefix}${key}:lease`, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')
          .catch(() => 'OK' as const);
        return ok === 'OK' ? token : undefined;
      },
      async release(key, token) {
        // Only the holder's own lease: one that expired and was taken by another instance stays.
        await redis
          .eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
            1,
            `${prefix}${key}:lease`,
            token,
          )
          .catch(() => {});
      },
    };
  }
  const values = new Map<string, { value: unknown; until: number }>();
  const leases = new Map<string, { token: string; until: number }>();
  return {
    shared: false,
    async get(key) {
      const e = values.get(key);
      if (!e) return undefined;
      if (e.until <= Date.now()) {
        values.delete(key);
        return undefined;
      }
      return e.value;
    },
    async set(key, value, ttlMs) {
      values.delete(key);
      if (values.size >= maxEntries) {
        // Oldest written first (a Map keeps insertion order).
        const first = values.keys().next();
        if (!first.done) values.delete(first.value);
      }
      values.set(key, { value, until: Date.now() + ttlMs });
    },
    async lease(key, ttlMs) {
      const held = leases.get(key);
      if (held && held.until > Date.now()) return undefined;
      const token = randomBytes(9).toString('base64url');
      leases.set(key, { token, until: Date.now() + ttlMs });
      return token;
    },
    async release(key, token) {
      if (leases.get(key)?.token === token) leases.delete(key);
    },
  };
}

interface Entry<T> {
  /** When the computation that made it started (ms on the caller's clock): what it shows is at least this recent. */
  at: number;
  version: string;
  value: T;
}

export interface RefreshingOptions<T> {
  store: CacheStore;
  key: string;
  now: () => Date;
  /** Never served when its computation started longer ago than this: callers then wait for a new one. */
  maxAgeMs: number;
  /** Recomputed in the background once this old, even when the version has not moved. */
  refreshAfterMs: number;
  /** A moved version is picked up (in the background) no sooner than this after the last computation started. */
  minIntervalMs: number;
  /** A cheap read of what the value depends on (a change counter, the day). */
  version: () => Promise<string>;
  compute: (at: Date) => Promise<T>;
  /** Turns a value read back from a shared store (JSON) into `T`. */
  revive?: (raw: unknown) => T;
  /** Called with a background recomputation's error (the stale value was served; the next call tries again). */
  onError?: (err: unknown) => void;
  /** How long a caller with nothing to serve waits for another instance's computation before computing itself. */
  waitMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A value served stale while one recomputation runs (see the top of this file). */
export function refreshing<T>(o: RefreshingOptions<T>): () => Promise<T> {
  const waitMs = o.waitMs ?? 10_000;
  const leaseMs = Math.max(o.maxAgeMs, 30_000);
  let local: Entry<T> | undefined;
  let running: Promise<Entry<T>> | undefined;

  // Servable: computed in the last `maxAgeMs` on this clock (a clock moved back makes every entry unservable).
  const servable = (e: Entry<T> | undefined, t: number): e is Entry<T> =>
    e !== undefined && t >= e.at && t - e.at < o.maxAgeMs;
  const current = (e: Entry<T>, version: string, t: number) =>
    servable(e, t) && t - e.at < o.refreshAfterMs && (e.version === version || t - e.at < o.minIntervalMs);

  const readShared = async (): Promise<Entry<T> | undefined> => {
    const raw = (await o.store.get(o.key)) as Entry<unknown> | undefined;
    if (!raw) return undefined;
    return { at: raw.at, version: raw.version, value: o.revive ? o.revive(raw.value) : (raw.value as T) };
  };

  const computeAndShare = async (version: string): Promise<Entry<T>> => {
    const started = o.now();
    const entry: Entry<T> = { at: started.getTime(), version, value: await o.compute(started) };
    await o.store.set(o.key, entry, o.maxAgeMs);
    return entry;
  };

  async function obtain(version: string): Promise<Entry<T>> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const t = o.now().getTime();
      const shared = await readShared();
      // Another instance's newer computation is as good as ours would be.
      if (shared && (!local || shared.at > local.at) && current(shared, version, t)) return shared;
      const token = await o.store.lease(o.key, leaseMs);
      if (token) {
        try {
          return await computeAndShare(version);
        } finally {
          await o.store.release(o.key, token);
        }
      }
      // Someone is computing: serve what we have meanwhile (the caller does), or wait a little for theirs.
      if (Date.now() >= deadline) return computeAndShare(version);
      await sleep(25);
    }
  }

  const refresh = (version: string): Promise<Entry<T>> => {
    running ??= obtain(version)
      .then((e) => {
        if (!local || e.at >= local.at || !servable(local, o.now().getTime())) local = e;
        return e;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  return async () => {
    const version = await o.version();
    const t = o.now().getTime();
    const have = local;
    if (have && current(have, version, t)) return have.value;
    if (servable(have, t)) {
      refresh(version).catch((err: unknown) => o.onError?.(err));
      return have.value;
    }
    // Nothing servable here: share the computation already running if it will do, else wait for a new one.
    let e = await refresh(version);
    if (!servable(e, o.now().getTime())) e = await refresh(version);
    return e.value;
  };
}

export interface VersionedOptions<T> {
  store: CacheStore;
  /** How long an entry is kept at most (a version that never moves again still ends). */
  ttlMs: number;
  /** Entries kept in this process's memory (the oldest written go first). */
  maxLocal?: number;
  revive?: (raw: unknown) => T;
}

/**
 * Values per key, each valid only under the version it was computed with. `get(key, version, compute)`: the value
 * cached under exactly `version`, else `compute()`'s result, kept when `compute` says it may be (`keep: true`).
 * Concurrent callers of one key and version share one computation in this process. `lookup` answers the same and
 * says whether the value is one kept under `version` (so what a caller derives from it may be kept under it too).
 */
export function versioned<T>(o: VersionedOptions<T>) {
  const maxLocal = o.maxLocal ?? 5_000;
  const local = new Map<string, { version: string; value: T; until: number }>();
  const running = new Map<string, Promise<{ value: T; keep: boolean }>>();

  const remember = (key: string, version: string, value: T) => {
    local.delete(key);
    if (local.size >= maxLocal) {
      const first = local.keys().next();
      if (!first.done) local.delete(first.value);
    }
    local.set(key, { version, value, until: Date.now() + o.ttlMs });
  };

  async function load(key: string, version: string, compute: () => Promise<{ value: T; keep: boolean }>) {
    if (o.store.shared) {
      const raw = (await o.store.get(key)) as { version: string; value: unknown } | undefined;
      if (raw && raw.version === version) {
        const value = o.revive ? o.revive(raw.value) : (raw.value as T);
        remember(key, version, value);
        return { value, keep: true };
      }
    }
    const r = await compute();
    if (r.keep) {
      remember(key, version, r.value);
      if (o.store.shared) await o.store.set(key, { version, value: r.value }, o.ttlMs);
    }
    return r;
  }

  function lookup(
    key: string,
    version: string,
    compute: () => Promise<{ value: T; keep: boolean }>,
  ): Promise<{ value: T; keep: boolean }> {
    const hit = local.get(key);
    if (hit && hit.version === version && hit.until > Date.now())
      return Promise.resolve({ value: hit.value, keep: true });
    const flight = `${version}\u0000${key}`;
    let p = running.get(flight);
    if (!p) {
      p = load(key, version, compute).finally(() => running.delete(flight));
      running.set(flight, p);
    }
    return p;
  }

  return {
    lookup,
    async get(key: string, version: string, compute: () => Promise<{ value: T; keep: boolean }>): Promise<T> {
      return (await lookup(key, version, compute)).value;
    },
  };
}

/**
 * A cheap read (a version counter) shared by the callers that ask for it at about the same time, without ever
 * answering a caller with a read that started before it asked: a caller that arrives while a read is in flight gets
 * the next read, which starts when that one ends and serves everyone who arrived meanwhile. Under load that is at
 * most two reads per round trip instead of one per caller, and a caller that has just seen its own write committed
 * still reads a version taken after that commit.
 */
export function freshRead<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  let next: Promise<T> | undefined;
  const start = (): Promise<T> => {
    const p = read();
    inFlight = p;
    const done = () => {
      if (inFlight === p) inFlight = undefined;
    };
    p.then(done, done);
    return p;
  };
  const ignore = () => {};
  return () => {
    if (!inFlight) return start();
    next ??= inFlight.then(ignore, ignore).then(() => {
      next = undefined;
      return start();
    });
    return next;
  };
}
