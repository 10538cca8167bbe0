// Drives pending purchases to the provider. A purchase row is its own durable job: `next_check_at` says when it is
// due. The loop claims due rows in batches (one UPDATE … FOR UPDATE SKIP LOCKED that also pushes `next_check_at`
// forward by a lease), runs at most `concurrency` provider calls at a time, and sleeps until the next row is due,
// the poll interval passes, or a new purchase kicks it. Several instances share the table safely; a row claimed
// by an instance that died is due again when its lease runs out.
import type { Logger } from 'pino';

export interface Dispatcher {
  start(): void;
  /** A purchase was just accepted on this instance: look for work now instead of at the next poll. */
  kick(): void;
  /** Stops claiming and waits (up to `timeoutMs`) for the calls in flight. */
  stop(timeoutMs: number): Promise<void>;
}

export function createDispatcher<T>(opts: {
  /** Claims up to `limit` due items (and leases them). */
  claim: (limit: number) => Promise<T[]>;
  /** Milliseconds until the next item is due, or undefined when nothing is pending. */
  nextDueInMs: () => Promise<number | undefined>;
  handle: (item: T) => Promise<void>;
  concurrency: number;
  pollMs: number;
  logger: Logger;
}): Dispatcher {
  let running = false;
  let loopDone: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;
  let kicked = false;
  const active = new Set<Promise<void>>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (kicked) {
        kicked = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function loop() {
    while (running) {
      let claimed = 0;
      const free = opts.concurrency - active.size;
      if (free > 0) {
        try {
          const items = await opts.claim(free);
          claimed = items.length;
          for (const item of items) {
            const p: Promise<void> = opts
              .handle(item)
              .catch((err) => opts.logger.error({ err }, 'ppob dispatch failed; the purchase is retried later'))
              .finally(() => {
                active.delete(p);
                wake?.();
              });
            active.add(p);
          }
        } catch (err) {
          opts.logger.error({ err }, 'ppob dispatcher could not claim purchases');
        }
      }
      if (!running) break;
      if (claimed > 0 && active.size < opts.concurrency) continue;
      let wait = opts.pollMs;
      if (active.size < opts.concurrency) {
        try {
          const due = await opts.nextDueInMs();
          if (due !== undefined) wait = Math.min(wait, Math.max(due, 5));
        } catch {
          // the next poll tries again
        }
      }
      await sleep(wait);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loopDone = loop();
    },
    kick() {
      if (wake) wake();
      else kicked = true;
    },
    async stop(timeoutMs) {
      running = false;
      wake?.();
      await loopDone;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...active]),
        new Promise((r) => {
          timer = setTimeout(r, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
