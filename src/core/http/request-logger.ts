// Per-request loggers and ids, cheap enough for every request. Fastify gives each request a child logger bound to
// its request id; pino builds a child's bindings (serialised and redacted) when the child is made, which cost ~5 %
// of a small request's CPU although most requests never log at an enabled level. A deferred child makes the pino
// child only when something is logged at a level that is on.
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level } from 'pino';

type PinoLike = FastifyBaseLogger & { isLevelEnabled(level: Level): boolean };

class DeferredChild {
  #made: FastifyBaseLogger | undefined;
  readonly #parent: PinoLike;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions | undefined;

  constructor(parent: PinoLike, bindings: Bindings, options: ChildLoggerOptions | undefined) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #real(): FastifyBaseLogger {
    this.#made ??= this.#parent.child(this.#bindings, this.#options);
    return this.#made;
  }

  #log(level: Level, args: unknown[]): void {
    if (!this.#made && !this.#parent.isLevelEnabled(level)) return;
    const real = this.#real() as unknown as Record<Level, (...a: unknown[]) => void>;
    real[level](...args);
  }

  get level(): string {
    return (this.#made ?? this.#parent).level;
  }
  set level(value: string) {
    this.#real().level = value;
  }

  // Methods on the prototype, not per-instance closures: a request's logger then costs one small object.
  fatal(...args: unknown[]) {
    this.#log('fatal', args);
  }
  error(...args: unknown[]) {
    this.#log('error', args);
  }
  warn(...args: unknown[]) {
    this.#log('warn', args);
  }
  info(...args: unknown[]) {
    this.#log('info', args);
  }
  debug(...args: unknown[]) {
    this.#log('debug', args);
  }
  trace(...args: unknown[]) {
    this.#log('trace', args);
  }
  silent() {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
}

/**
 * Fastify's `childLoggerFactory`: a request's logger that becomes a real pino child at its first enabled entry.
 * A route with its own log level gets a real child at once (the parent's levels do not apply to it).
 */
export function deferredChildLogger(
  this: unknown,
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  if (options?.level) return logger.child(bindings, options);
  return new DeferredChild(logger as PinoLike, bindings, options) as unknown as FastifyBaseLogger;
}

/**
 * Request ids `req_` + 32 hex digits: a random prefix per process and a counter, unique across instances without
 * a random draw per request.
 */
export function requestIds(): () => string {
  const prefix = randomBytes(8).toString('hex');
  let n = 0;
  return () => `req_${prefix}${(n++).toString(16).padStart(16, '0')}`;
}
