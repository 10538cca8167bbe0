// Timestamps as the originals' clients read them (CONTRACTS §6): ISO 8601 local time of LOKET_TIMEZONE (default
// Asia/Jakarta) with its offset, to the second: `2026-12-05T14:03:11+07:00`. The first 19 characters are the local
// time the originals (naive datetimes on WIB servers) printed; the offset removes the ambiguity for any parser.
// The zone is set once at start-up (`useTimeZone`, from the config); module views format with `localTime`.

const DEFAULT_ZONE = 'Asia/Jakarta';

/** Whether `zone` is an IANA time zone this runtime knows (the config check). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone.trim() !== '';
  } catch {
    return false;
  }
}

function makeZone(zone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  // Offsets change at most every quarter hour (DST transitions); the answer per quarter is kept (the formatter is slow
  // compared with the rest). A list's rows carry times from many quarters (a customer's creation, an invoice's
  // date), so many quarters are kept, not only the last one; at most QUARTERS_KEPT, the oldest kept going first.
  const QUARTER = 15 * 60_000;
  const QUARTERS_KEPT = 50_000;
  const offsets = new Map<number, number>();
  const offsetAt = (ms: number): number => {
    const b = Math.floor(ms / QUARTER);
    const known = offsets.get(b);
    if (known !== undefined) return known;
    const at = b * QUARTER;
    const f = Object.fromEntries(parts.formatToParts(new Date(at)).map((p) => [p.type, Number(p.value)]));
    const local = Date.UTC(f.year ?? 0, (f.month ?? 1) - 1, f.day ?? 1, f.hour ?? 0, f.minute ?? 0, f.second ?? 0);
    if (offsets.size >= QUARTERS_KEPT) {
      const first = offsets.keys().next();
      if (!first.done) offsets.delete(first.value);
    }
    offsets.set(b, local - at);
    return local - at;
  };
  return (d: Date): string => {
    const ms = Math.floor(d.getTime() / 1000) * 1000;
    const off = offsetAt(ms);
    const abs = Math.abs(off) / 60_000;
    const sign = off < 0 ? '-' : '+';
    const hh = String(Math.floor(abs / 60)).padStart(2, '0');
    const mm = String(abs % 60).padStart(2, '0');
    return `${new Date(ms + off).toISOString().slice(0, 19)}${sign}${hh}:${mm}`;
  };
}

let current = { zone: DEFAULT_ZONE, format: makeZone(DEFAULT_ZONE) };

/** Sets the zone of every `localTime` (called once by buildApp with LOKET_TIMEZONE). */
export function useTimeZone(zone: string): void {
  if (zone === current.zone) return;
  if (!isTimeZone(zone)) throw new Error(`unknown time zone ${zone}`);
  current = { zone, format: makeZone(zone) };
}

/** The zone timestamps are shown in. */
export const timeZone = (): string => current.zone;

/** `2026-12-05T14:03:11+07:00`: the instant in the configured zone, to the second, with its offset. */
export function localTime(d: Date | string | number): string {
  return current.format(d instanceof Date ? d : new Date(d));
}

/** `localTime`, keeping null as null. */
export const localTimeOrNull = (d: Date | string | number | null | undefined): string | null =>
  d === null || d === undefined ? null : localTime(d);

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * `value` with every Date in it (through arrays and plain objects) shown as its `localTime`: what a module's
 * response carries (CONTRACTS §6). Nothing is changed in place; what holds no Date is returned as it is.
 */
export function localTimes<T>(value: T): T {
  if (value instanceof Date) return localTime(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = localTimes(value[i]);
      if (v !== value[i]) {
        out ??= value.slice();
        out[i] = v;
      }
    }
    return (out ?? value) as T;
  }
  if (!isPlainObject(value)) return value;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const shown = localTimes(v);
    if (shown !== v) {
      out ??= { ...(value as Record<string, unknown>) };
      out[k] = shown;
    }
  }
  return (out ?? value) as T;
}
