// Group commit in the application: work items that arrive while earlier ones are still running are gathered and run
// together as one batch (one statement, one commit), so under load the cost of a round trip and a WAL flush is
// shared by many items. No timer waits for a batch to fill: an item that arrives while a runner is free starts at
// once, alone, on the single path; batches only form from what queued up while every runner was busy. Any failure
// of a batch as a whole sends each of its items down the single path, which gives each its own precise outcome.

export interface BatcherOptions<I, O> {
  /** Largest batch handed to `batch`. */
  maxSize: number;
  /** Batches (or single items) in flight at once. */
  concurrency: number;
  /** Runs one item on its own. */
  single: (item: I) => Promise<O>;
  /** Runs 2…maxSize items; returns one settled outcome per item, in order. Throwing retries each on `single`. */
  batch: (items: I[]) => Promise<PromiseSettledResult<O>[]>;
  /** Told the size of every run, single items included. */
  onRun?: (size: number) => void;
  /** Told when a whole batch failed and its items went down the single path. */
  onBatchError?: (err: unknown, size: number) => void;
}

export interface Batcher<I, O> {
  submit(item: I): Promise<O>;
  /** Items waiting for a runner. */
  readonly queued: number;
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (reason: unknown) => void;
}

export function createBatcher<I, O>(opts: BatcherOptions<I, O>): Batcher<I, O> {
  const queue: Waiting<I, O>[] = [];
  let running = 0;

  async function runOne(w: Waiting<I, O>): Promise<void> {
    try {
      w.resolve(await opts.single(w.item));
    } catch (err) {
      w.reject(err);
    }
  }

  async function runMany(ws: Waiting<I, O>[]): Promise<void> {
    let outcomes: PromiseSettledResult<O>[];
    try {
      outcomes = await opts.batch(ws.map((w) => w.item));
      if (outcomes.length !== ws.length) throw new Error(`batch returned ${outcomes.length} of ${ws.length} outcomes`);
    } catch (err) {
      opts.onBatchError?.(err, ws.length);
      await Promise.all(ws.map(runOne));
      return;
    }
    outcomes.forEach((o, i) => {
      const w = ws[i] as Waiting<I, O>;
      if (o.status === 'fulfilled') w.resolve(o.value);
      else w.reject(o.reason);
    });
  }

  function pump(): void {
    while (running < opts.concurrency && queue.length > 0) {
      const taken = queue.splice(0, opts.maxSize);
      running++;
      opts.onRun?.(taken.length);
      const work = taken.length === 1 ? runOne(taken[0] as Waiting<I, O>) : runMany(taken);
      void work.finally(() => {
        running--;
        pump();
      });
    }
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        pump();
      });
    },
    get queued() {
      return queue.length;
    },
  };
}
