// What polling kiosks are told, kept in memory so that most polls need no database read. A transaction's status
// changes only in the payments listener; after that transaction commits, every instance is told (bus) and drops
// its copy. A read that began before such a notice is not kept (it may have seen the old row). Notices can be lost
// (a bus reconnect), so a PENDING copy is trusted for at most `pendingMaxAgeMs`; final statuses never change and are
// kept until evicted (oldest first, `maxEntries`).
export interface StatusCache<V> {
  get(id: string): V | undefined;
  /** Call before reading from the database; pass the result to `store`. */
  begin(): number;
  store(id: string, value: V, final: boolean, begun: number): void;
  invalidate(id: string): void;
}

export function createStatusCache<V>(opts: {
  maxEntries: number;
  pendingMaxAgeMs: number;
  clock?: () => number;
}): StatusCache<V> {
  const clock = opts.clock ?? Date.now;
  const entries = new Map<string, { value: V; final: boolean; at: number }>();
  const notices = new Map<string, number>();
  let seq = 0;
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
      if (!e.final && clock() - e.at > opts.pendingMaxAgeMs) {
        entries.delete(id);
        return undefined;
      }
      return e.value;
    },
    begin: () => seq,
    store(id, value, final, begun) {
      if ((notices.get(id) ?? -1) > begun) return; // changed while it was being read
      entries.delete(id);
      entries.set(id, { value, final, at: clock() });
      trim(entries);
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
