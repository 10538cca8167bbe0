// What polling kiosks are told, kept in memory so that most polls need no database read. A transaction's status
// changes only in the payments listener; after that transaction commits, every instance is told (bus) and drops
// its copy. A read that began before such a notice is not kept (it may have seen the old row). Notices sent while
// an instance's bus link was down are lost to it: when the link is back, every PENDING copy is dropped
// (`forgetPending`). A notice can still be lost by a publish that fails, so a PENDING copy is trusted for at most
// `pendingMaxAgeMs` as well; final statuses never change and are kept until evicted (oldest first, `maxEntries`).
// Each PENDING copy is trusted for a random time between half and all of `pendingMaxAgeMs`: copies made together
// (after a restart, after a break in the bus link) would otherwise all be read again in the same second.
export interface StatusCache<V> {
  get(id: string): V | undefined;
  /** Call before reading from the database; pass the result to `store`. */
  begin(): number;
  store(id: string, value: V, final: boolean, begun: number): void;
  invalidate(id: string): void;
  /** Drops every PENDING copy, and keeps no read that began before (the bus link was down: notices were missed). */
  forgetPending(): void;
}

export function createStatusCache<V>(opts: {
  maxEntries: number;
  pendingMaxAgeMs: number;
  clock?: () => number;
  /** In [0, 1): where in its trust window a PENDING copy expires (tests pass a fixed one). */
  random?: () => number;
}): StatusCache<V> {
  const clock = opts.clock ?? Date.now;
  const random = opts.random ?? Math.random;
  const entries = new Map<string, { value: V; final: boolean; until: number }>();
  const notices = new Map<string, number>();
  let seq = 0;
  let forgotAt = -1;
  const trim = (m: Map<string, unknown>) => {
    while (m.size > opts.maxEntries) {
      const oldest = m.keys().next().value as string;
      m.delete(oldest);
    }
  };
  return {
    get(id) {
      const e = entries.get(id);
      if (!e) return undefined;
      if (!e.final && clock() > e.until) {
        entries.delete(id);
        return undefined;
      }
      return e.value;
    },
    begin: () => seq,
    store(id, value, final, begun) {
      if ((notices.get(id) ?? -1) > begun || forgotAt > begun) return; // changed while it was being read
      entries.delete(id);
      const trusted = final ? Number.POSITIVE_INFINITY : opts.pendingMaxAgeMs * (0.5 + 0.5 * random());
      entries.set(id, { value, final, until: clock() + trusted });
      trim(entries);
    },
    forgetPending() {
      seq++;
      forgotAt = seq;
      for (const [id, e] of entries) if (!e.final) entries.delete(id);
    },
    invalidate(id) {
      seq++;
      entries.delete(id);
      notices.delete(id);
      notices.set(id, seq);
      trim(notices);
    },
  };
}
