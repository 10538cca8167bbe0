// One error type for everything a request can fail with. The code is stable and machine-readable; the status
// comes from one map; modules add their own codes (for example USERNAME_EXISTS) at registration.

export const ERROR_STATUS: Record<string, number> = {
  BAD_REQUEST: 400,
  VALIDATION_ERROR: 422,
  AUTHENTICATION_ERROR: 401,
  AUTHORIZATION_ERROR: 403,
  INVALID_CREDENTIALS: 401,
  ACCOUNT_DISABLED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BUSINESS_LOGIC_ERROR: 422,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  EXTERNAL_SERVICE_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
};

export function registerErrorCodes(codes: Record<string, number>): void {
  for (const [code, status] of Object.entries(codes)) {
    const known = ERROR_STATUS[code];
    if (known !== undefined && known !== status) {
      throw new Error(`error code ${code} is already mapped to ${known}, cannot map it to ${status}`);
    }
    ERROR_STATUS[code] = status;
  }
}

/** Per-field problems: field name (dotted path) → messages. */
export type FieldErrors = Record<string, string[]>;

/** The part of a request a value came from, in FastAPI's words. */
export type RequestPart = 'path' | 'query' | 'header' | 'body';

export class AppError extends Error {
  readonly code: string;
  readonly details: FieldErrors | undefined;
  /** Extra headers the response must carry (Retry-After, Allow, WWW-Authenticate). */
  readonly headers: Record<string, string> | undefined;
  /** Where the fields of `details` were (FastAPI's first `loc` item); unset: the body. */
  readonly location: RequestPart | undefined;

  constructor(
    code: string,
    message: string,
    opts: { details?: FieldErrors; headers?: Record<string, string>; location?: RequestPart } = {},
  ) {
    super(message);
    if (ERROR_STATUS[code] === undefined) throw new Error(`unknown error code ${code}: register it first`);
    this.name = 'AppError';
    this.code = code;
    this.details = opts.details;
    this.headers = opts.headers;
    this.location = opts.location;
  }

  get status(): number {
    return ERROR_STATUS[this.code] ?? 500;
  }
}

/**
 * PostgreSQL errors translated in one place. Messages never name tables, columns or constraints: they are for
 * the API's users, and the original error goes to the log.
 */
export function fromDatabaseError(err: unknown): AppError | undefined {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  switch (code) {
    case '23505':
      return new AppError('CONFLICT', 'A record with the same unique value already exists');
    case '23503':
      return new AppError('BAD_REQUEST', 'The request refers to a record that does not exist or is still in use');
    case '23502':
    case '23514':
    case '22001':
    case '22003':
    case '22P02':
    case '22007':
    case '22008':
    case '22021': // a byte sequence the database cannot store (NUL in text)
    case '22P05': // a character the database cannot store
      return new AppError('BAD_REQUEST', 'A value in the request is invalid or out of range');
    case '40001':
    case '40P01':
      return new AppError('CONFLICT', 'The request conflicted with another one; please retry');
    case '57014':
      return new AppError('SERVICE_UNAVAILABLE', 'The database took too long to answer; please retry');
    case '53300':
    case '57P01':
    case '57P03':
    case '08006':
    case '08001':
      return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; please retry shortly');
    default:
      return undefined;
  }
}
