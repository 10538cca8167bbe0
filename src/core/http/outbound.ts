// Small helpers every adapter that calls another system over HTTP needs (Xendit, Digiflazz).

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JSON in a response body, or undefined when it is empty or not JSON (the caller says what it expected). */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** fetch reports a network failure as a bare 'fetch failed'; the useful part (ECONNREFUSED, …) is its cause. */
export function networkCause(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (typeof cause === 'object' && cause !== null) {
    const c = cause as { code?: unknown; message?: unknown };
    if (typeof c.code === 'string') return c.code;
    if (typeof c.message === 'string' && c.message) return c.message;
  }
  return err instanceof Error ? err.message : String(err);
}
