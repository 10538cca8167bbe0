// Billing's calendar: dates are Indonesian western time (UTC+7), where customers and due dates live.

/** Today's date (YYYY-MM-DD) in UTC+7. */
export function jakartaDate(now: Date): string {
  return new Date(now.getTime() + 7 * 3600_000).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD` of the `day` of a `YYYY-MM` period (clamped to the month's length). */
export function dayOfPeriod(periode: string, day: number): string {
  const [y, m] = periode.split('-').map(Number) as [number, number];
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return `${periode}-${String(Math.min(day, last)).padStart(2, '0')}`;
}
