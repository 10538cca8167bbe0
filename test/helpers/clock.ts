/** A clock a test can move forward; the app reads it through `overrides.now`. */
export function fakeClock() {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    advance(ms: number) {
      offsetMs += ms;
    },
  };
}

/**
 * Rate limits count in fixed windows (src/core/limits/limiter.ts). A test that makes N requests and expects the
 * N+1st to be refused must not straddle a window's end: this waits, when needed, until at least `needMs` of the
 * current `windowMs` window are left.
 */
export async function roomInWindow(windowMs: number, needMs: number): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < needMs) await new Promise((r) => setTimeout(r, left + 50));
}
