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
