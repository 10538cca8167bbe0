// The core's shared caches (src/core/cache.ts): a value served stale while exactly one recomputation runs and never
// older than its bound, and values per key valid under one version; in process memory and, with REDIS_URL, shared
// by two "instances" (two caches on one Redis key space).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type CacheStore, cacheStore, freshRead, refreshing, versioned } from '../src/core/cache.ts';
import { REDIS_URL } from './helpers/db.ts';
import { until } from './helpers/until.ts';

/** A computation the test finishes by hand, counting how many were started. */
function gate() {
  let started = 0;
  let release: ((v: string) => void)[] = [];
  return {
    get started() {
      return started;
    },
    compute: (value: () => string) => () => {
      started++;
      return new Promise<string>((resolve) => release.push(() => resolve(value())));
    },
    finishAll() {
      for (const r of release) r('');
      release = [];
    },
  };
}

function setup(store: CacheStore, clock: { t: number }, state: { version: string; value: string }) {
  const g = gate();
  const get = refreshing<string>({
    store,
    key: 'view',
    now: () => new Date(clock.t),
    maxAgeMs: 30_000,
    refreshAfterMs: 20_000,
    minIntervalMs: 5_000,
    version: async () => state.version,
    compute: g.compute(() => state.value),
    waitMs: 5_000,
  });
  return { get, g };
}

const redis = REDIS_URL ? new Redis(REDIS_URL) : undefined;
afterAll(async () => {
  await redis?.quit();
});

for (const kind of ['memory', 'redis'] as const) {
  const skip = kind === 'redis' && !redis;
  const newStore = () =>
    cacheStore(kind === 'redis' ? redis : undefined, `loket-test-${randomBytes(6).toString('hex')}:`);
  /** A view computed once (value 'A' under version 'v1'), its clock and what it is computed from. */
  const warmed = async () => {
    const clock = { t: 1_000_000 };
    const state = { version: 'v1', value: 'A' };
    const { get, g } = setup(newStore(), clock, state);
    const first = get();
    await until(() => g.started === 1);
    g.finishAll();
    const firstValue = await first;
    return { clock, state, get, g, firstValue };
  };

  describe.skipIf(skip)(`refreshing (${kind}${kind === 'redis' ? ', two instances' : ''})`, () => {
    it('50 callers with nothing cached start one computation and all get its value', async () => {
      const clock = { t: 1_000_000 };
      const state = { version: 'v1', value: 'A' };
      const { get, g } = setup(newStore(), clock, state);
      const calls = Array.from({ length: 50 }, () => get());
      await until(() => g.started === 1);
      g.finishAll();
      expect(await Promise.all(calls)).toEqual(Array(50).fill('A'));
      expect(g.started).toBe(1);
    });

    it('after a change, the last value is served while one recomputation runs; then the new one', async () => {
      const { clock, state, get, g, firstValue } = await warmed();
      expect(firstValue).toBe('A');
      state.version = 'v2';
      state.value = 'B';
      // Within the minimum interval a change is not picked up yet.
      clock.t += 1_000;
      expect(await get()).toBe('A');
      expect(g.started).toBe(1);
      // After it: 50 callers get the last value at once, and one recomputation starts.
      clock.t += 5_000;
      expect(await Promise.all(Array.from({ length: 50 }, () => get()))).toEqual(Array(50).fill('A'));
      await until(() => g.started === 2);
      g.finishAll();
      expect(await until(async () => (await get()) === 'B')).toBe(true);
      expect(g.started).toBe(2);
    });

    it('a value whose computation started 30 s ago is never served: callers wait for a new one', async () => {
      const { clock, state, get, g } = await warmed();
      state.value = 'B'; // a change the version did not show (a write counted before it committed)
      clock.t += 30_000;
      let settled = false;
      const late = get().then((v) => {
        settled = true;
        return v;
      });
      await until(() => g.started === 2);
      expect(settled).toBe(false);
      g.finishAll();
      expect(await late).toBe('B');
    });

    it('a value older than the refresh age is recomputed in the background though nothing changed', async () => {
      const { clock, state, get, g } = await warmed();
      state.value = 'B';
      clock.t += 20_000;
      expect(await get()).toBe('A');
      await until(() => g.started === 2);
      g.finishAll();
      expect(await until(async () => (await get()) === 'B')).toBe(true);
    });
  });
}

describe.skipIf(!redis)('refreshing across two instances sharing Redis (needs REDIS_URL)', () => {
  it('one instance computes; the other serves its value and waits for it instead of computing again', async () => {
    const prefix = `loket-test-${randomBytes(6).toString('hex')}:`;
    const clock = { t: 1_000_000 };
    const state = { version: 'v1', value: 'A' };
    const a = setup(cacheStore(redis, prefix), clock, state);
    const b = setup(cacheStore(redis, prefix), clock, state);
    const fromA = a.get();
    await until(() => a.g.started === 1);
    const fromB = Array.from({ length: 20 }, () => b.get());
    a.g.finishAll();
    expect(await fromA).toBe('A');
    expect(await Promise.all(fromB)).toEqual(Array(20).fill('A'));
    expect(b.g.started).toBe(0);
    // A change recomputed by B is what A serves once its own view is due for a refresh.
    state.version = 'v2';
    state.value = 'B';
    clock.t += 6_000;
    expect(await b.get()).toBe('A');
    await until(() => b.g.started === 1);
    b.g.finishAll();
    await until(async () => (await b.get()) === 'B');
    expect(await until(async () => (await a.get()) === 'B')).toBe(true);
    expect(a.g.started).toBe(1);
  });
});

describe('versioned', () => {
  for (const kind of ['memory', 'redis'] as const) {
    it.skipIf(kind === 'redis' && !redis)(
      `serves a value only under its version; a computation marked not to keep is not kept (${kind})`,
      async () => {
        const prefix = `loket-test-${randomBytes(6).toString('hex')}:`;
        const one = versioned<number>({
          store: cacheStore(kind === 'redis' ? redis : undefined, prefix),
          ttlMs: 60_000,
        });
        let computed = 0;
        const compute =
          (value: number, keep = true) =>
          async () => {
            computed++;
            return { value, keep };
          };
        expect(await one.get('budi', '1', compute(10))).toBe(10);
        expect(await one.get('budi', '1', compute(11))).toBe(10);
        expect(await one.get('budi', '2', compute(12, false))).toBe(12);
        expect(await one.get('budi', '2', compute(13))).toBe(13);
        expect(await one.get('budi', '2', compute(14))).toBe(13);
        expect(computed).toBe(3);
        // 50 callers of one key and version share one computation.
        const slow = async () => {
          computed++;
          await new Promise((r) => setTimeout(r, 20));
          return { value: 99, keep: true };
        };
        expect(await Promise.all(Array.from({ length: 50 }, () => one.get('ani', '2', slow)))).toEqual(
          Array(50).fill(99),
        );
        expect(computed).toBe(4);
        if (kind === 'redis') {
          // A second instance finds the first one's value under the same version, and not under another.
          const two = versioned<number>({ store: cacheStore(redis, prefix), ttlMs: 60_000 });
          expect(await two.get('ani', '2', compute(0))).toBe(99);
          expect(await two.get('ani', '3', compute(7))).toBe(7);
          expect(computed).toBe(5);
        }
      },
    );
  }
});

describe('a Redis that does not answer', () => {
  it('is passed over: the value is computed from the source, and computed again when asked under a new version', async () => {
    // Nothing listens on port 1; with no offline queue every command fails at once.
    const down = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    down.on('error', () => {});
    try {
      const store = cacheStore(down, 'loket-test-down:');
      const state = { version: 'v1', value: 'A' };
      let computed = 0;
      const get = refreshing<string>({
        store,
        key: 'view',
        now: () => new Date(1_000_000),
        maxAgeMs: 30_000,
        refreshAfterMs: 20_000,
        minIntervalMs: 5_000,
        version: async () => state.version,
        compute: async () => {
          computed++;
          return state.value;
        },
      });
      expect(await get()).toBe('A');
      expect(await get()).toBe('A');
      expect(computed).toBe(1);
      const list = versioned<string>({ store, ttlMs: 60_000 });
      expect(await list.get('k', '1', async () => ({ value: 'x', keep: true }))).toBe('x');
      expect(await list.get('k', '1', async () => ({ value: 'y', keep: true }))).toBe('x');
      expect(await list.get('k', '2', async () => ({ value: 'z', keep: true }))).toBe('z');
    } finally {
      down.disconnect();
    }
  });
});

describe('freshRead (a version read shared by callers that arrive together)', () => {
  it('a caller never gets a read that started before it asked; callers arriving during one read share the next', async () => {
    // The "database": a counter that a write moves; each read reports the counter when it started.
    let counter = 0;
    let reads = 0;
    const pending: (() => void)[] = [];
    const read = freshRead(() => {
      reads++;
      const seen = counter;
      return new Promise<number>((resolve) => pending.push(() => resolve(seen)));
    });
    const flush = async () => {
      while (pending.length > 0) {
        pending.shift()?.();
        await new Promise((r) => setImmediate(r));
      }
    };
    const first = read(); // starts read 1 (sees 0)
    counter = 1; // a write commits while read 1 is in flight
    const late = [read(), read(), read()]; // they asked after the write: they must see it
    expect(reads).toBe(1);
    await flush();
    expect(await first).toBe(0);
    expect(await Promise.all(late)).toEqual([1, 1, 1]);
    expect(reads).toBe(2); // the three late callers shared one read
    // Alone again: a caller starts its own read at once.
    const alone = read();
    expect(reads).toBe(3);
    await flush();
    expect(await alone).toBe(1);
  });

  it('a failed read fails its callers only; the next callers read again', async () => {
    let fail = true;
    const read = freshRead(async () => {
      if (fail) throw new Error('connection lost');
      return 'v2';
    });
    await expect(read()).rejects.toThrow('connection lost');
    fail = false;
    expect(await read()).toBe('v2');
  });
});
