// Security headers (helmet's policy) computed once at start-up and copied onto every response. Running helmet's
// middleware per request re-parses its configuration each time, which cost a third of a small request's CPU.
// Routes that serve HTML with other needs (the API docs, the kiosk page) overwrite the headers they must.
import helmet, { type HelmetOptions } from 'helmet';

export function securityHeaders(options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string | number) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  // helmet's middleware only reads its options and sets headers: a plain object is enough to record them.
  helmet(options)({} as never, res as never, (err?: unknown) => {
    failure = err;
  });
  if (failure) throw failure;
  return headers;
}
