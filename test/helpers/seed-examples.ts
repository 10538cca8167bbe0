// The seed documents' request and response examples as tests (issue 21 item 3). A test sends the example's request
// to a fresh start of Loket and compares the answer with the example: by shape (every field the example shows is
// there, with the example's JSON type, recursively) and by the values the example fixes (codes, statuses, messages).
// Timestamps are compared by form: ISO 8601 local time of LOKET_TIMEZONE with its offset (CONTRACTS §6 adds the
// offset the documents' local times lack; a `Z` time is the right instant but not the local time §6 asks for).
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Config } from '../../src/config.ts';
import { localTime } from '../../src/core/time.ts';
import { startTestApp, type TestApp } from './app.ts';

export type Res = Pick<LightMyRequestResponse, 'statusCode' | 'json' | 'body' | 'headers'>;

/**
 * A fresh Loket with the given modules: an embedded database of its own, or a fresh database on the PostgreSQL
 * server in DATABASE_URL with the Redis in REDIS_URL (startTestApp decides). Demo data is on, as for a first start.
 */
export function startSeedApp(
  modules: Config['modules'],
  opts: { env?: Record<string, string>; config?: Partial<Config> } = {},
): Promise<TestApp> {
  return startTestApp({ env: opts.env ?? {}, config: { modules, demo: true, ...opts.config } });
}

/** ISO 8601 date-time with an offset or `Z` (CONTRACTS §6: timestamps carry their offset). */
export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** A string in an example that is a date-time (with or without an offset, as the documents write them). */
const LOOKS_LIKE_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;

/** ISO 8601 with the offset LOKET_TIMEZONE has at that instant (`…+07:00` in Jakarta; `Z` only where it is UTC). */
export function isLocalTimestamp(value: string): boolean {
  if (!ISO_TIMESTAMP.test(value)) return false;
  const suffix = (s: string) => (s.endsWith('Z') ? '+00:00' : s.slice(-6));
  return suffix(value) === suffix(localTime(Date.parse(value)));
}

const OFFSETLESS = 'expected an ISO 8601 local timestamp with its offset (CONTRACTS §6), got';
const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export interface ShapeOptions {
  /** Paths (`data.paid_at`, `data[].location`) whose value may also be null where the example shows a value. */
  nullable?: string[];
  /** Paths where the example shows null but Loket may answer the documented field's type (given here). */
  nullOr?: Record<string, 'string' | 'number' | 'boolean' | 'object' | 'array'>;
}

/**
 * Every problem where `actual` differs from the example's shape: a missing field, a different JSON type, a timestamp
 * without its offset. Extra fields in `actual` are fine (Loket adds some; CONTRACTS §4 aliases). An example array
 * with an element describes every element of the actual array.
 */
export function shapeProblems(actual: unknown, example: unknown, opts: ShapeOptions = {}, path = ''): string[] {
  const here = path || '(root)';
  if (example === null) {
    const alt = opts.nullOr?.[path];
    if (actual === null || (alt && kind(actual) === alt)) return [];
    return [`${here}: expected null${alt ? ` or ${alt}` : ''}, got ${kind(actual)}`];
  }
  if (actual === null && opts.nullable?.includes(path)) return [];
  if (kind(actual) !== kind(example)) return [`${here}: expected ${kind(example)}, got ${kind(actual)}`];
  if (typeof example === 'string' && LOOKS_LIKE_TIMESTAMP.test(example) && !isLocalTimestamp(actual as string)) {
    return [`${here}: ${OFFSETLESS} ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(example)) {
    const items = actual as unknown[];
    if (example.length === 0) return [];
    return items.flatMap((item, i) => shapeProblems(item, example[0], opts, `${path}[]`).map((p) => `${p} (#${i})`));
  }
  if (kind(example) === 'object') {
    const a = actual as Record<string, unknown>;
    return Object.entries(example as Record<string, unknown>).flatMap(([k, v]) => {
      const at = path ? `${path}.${k}` : k;
      return k in a ? shapeProblems(a[k], v, opts, at) : [`${at}: missing`];
    });
  }
  return [];
}

const timestampProblems: string[] = [];
/**
 * The timestamps seen so far in this file's answers that lack their offset. They are collected rather than failing
 * each example: the offset is CONTRACTS §6 (issue 21 finding 13), and each seed file asserts this list is empty in one
 * test of its own, so that a missing offset fails exactly that test.
 */
export const timestampsWithoutOffset = (): readonly string[] => timestampProblems;

/** Asserts the shape of `actual` against the example (see shapeProblems). */
export function expectShape(actual: unknown, example: unknown, opts: ShapeOptions = {}): void {
  const problems = shapeProblems(actual, example, opts);
  timestampProblems.push(...problems.filter((p) => p.includes(OFFSETLESS)));
  expect(
    problems.filter((p) => !p.includes(OFFSETLESS)),
    JSON.stringify(actual),
  ).toEqual([]);
}

/**
 * Asserts a response against a documented example: the status, the shape of the body, and the values the example
 * fixes (`fixed`, matched as a subset). Returns the body.
 */
export function expectExample(
  res: Res,
  status: number,
  example: unknown,
  fixed: unknown = {},
  opts: ShapeOptions = {},
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body the caller reads field by field
): any {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json();
  expectShape(body, example, opts);
  expect(body).toMatchObject(fixed as object);
  return body;
}

/** The newest message the development outbox holds for `to` (CONTRACTS §3). */
export async function newestMessage(t: TestApp, to: string, channel?: 'email' | 'sms' | 'whatsapp') {
  const q = new URLSearchParams({ to, limit: '1', ...(channel && { channel }) });
  const res = await t.app.inject({ method: 'GET', url: `/_dev/outbox?${q}` });
  expect(res.statusCode, res.body).toBe(200);
  const [m] = res.json().messages as { body: string; subject: string | null }[];
  if (!m) throw new Error(`no message for ${to} in the outbox`);
  return m;
}

/** The 6-digit code in the newest outbox message for `to`. */
export async function otpFromOutbox(t: TestApp, to: string, channel?: 'email' | 'sms' | 'whatsapp') {
  const code = /\b(\d{6})\b/.exec((await newestMessage(t, to, channel)).body)?.[1];
  if (!code) throw new Error(`no code in the newest message for ${to}`);
  return code;
}
