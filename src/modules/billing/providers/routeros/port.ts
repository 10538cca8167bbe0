// The RouterOS port: what billing needs from a Mikrotik router (PPPoE secrets, active sessions, profiles, identity),
// behind one interface. Every transport (the API protocol over TCP or TLS, the REST API of RouterOS 7, and the
// in-process simulator) is reduced to one primitive, `exec`: a console command path with its attribute words and
// query words, answering the reply rows or a trap. `commands.ts` turns that primitive into the typed client below,
// so the mapping of RouterOS's words to our types is written once for every transport.
// Nothing behind this port logs or returns a router password or a PPPoE password.

/** A PPPoE secret as billing reads it (`/ppp/secret`). `id` is RouterOS's `.id` (e.g. `*1A`). */
export interface PppSecret {
  id: string;
  name: string;
  profile: string;
  service: string;
  remoteAddress: string | null;
  disabled: boolean;
  comment: string | null;
}

/** What billing writes to a secret. The password is sent, never read back. */
export interface SecretFields {
  name: string;
  password: string;
  profile: string;
  service?: string;
  remoteAddress?: string | null;
  comment?: string | null;
  disabled?: boolean;
}

/** A connected PPPoE client (`/ppp/active`). */
export interface PppActive {
  id: string;
  name: string;
  address: string | null;
  callerId: string | null;
  uptime: string | null;
}

export interface PppProfile {
  id: string;
  name: string;
  rateLimit: string | null;
}

export interface RouterResource {
  version: string;
  uptime: string;
  boardName: string | null;
  cpuLoad: number | null;
  freeMemory: number | null;
  totalMemory: number | null;
}

/** How a router is reached. `host: 'simulator'` is the in-process RouterOS (CONTRACTS §4). */
export interface RouterTarget {
  /** A stable key for pooling (the router's id in the database). */
  key: string;
  host: string;
  /** Default 8728 (api), 8729 (api with tls), 443 (rest with tls), 80 (rest without). */
  port?: number;
  transport: 'api' | 'rest';
  tls: boolean;
  username: string;
  password: string;
  /** Per-command timeout; default 5,000 ms. */
  timeoutMs?: number;
  /** TLS: accept the router's self-signed certificate (the RouterOS default). Default true. */
  allowSelfSigned?: boolean;
}

export type RouterFailure =
  /** Could not connect (refused, unreachable, DNS). */
  | 'unreachable'
  /** No answer in time. */
  | 'timeout'
  /** Login refused. */
  | 'auth'
  /** The router refused the command (`!trap`): duplicate name, no such item, bad value. */
  | 'trap'
  /** The router closed the session (`!fatal`) or the connection broke mid-reply. */
  | 'fatal'
  /** A reply this client cannot read. */
  | 'protocol';

export class RouterError extends Error {
  readonly kind: RouterFailure;
  constructor(kind: RouterFailure, message: string) {
    super(message);
    this.name = 'RouterError';
    this.kind = kind;
  }
}

/** One reply row: RouterOS attribute words without their leading `=` (e.g. `{'.id': '*1', name: 'c-17'}`). */
export type Row = Record<string, string>;

/**
 * The transport primitive. `command` is a console path with its verb (`/ppp/secret/print`, `/ppp/secret/add`);
 * `attributes` become `=name=value` words; `query` holds RouterOS query words without their `?` (`name=c-17`), all
 * of which must match. Answers the `!re` rows (none for `!empty`/`!done` alone) and the `ret` of `!done` if any.
 * A `!trap` rejects with RouterError 'trap' and the router's message.
 */
export type Exec = (
  command: string,
  attributes?: Record<string, string>,
  query?: string[],
) => Promise<{ rows: Row[]; ret?: string }>;

export interface RouterTransport {
  exec: Exec;
  close(): Promise<void>;
}

export interface RouterClient {
  secrets(filter?: { name?: string }): Promise<PppSecret[]>;
  /** Adds a secret; answers its `.id`. A secret with the same name is a RouterError 'trap'. */
  addSecret(fields: SecretFields): Promise<string>;
  /** Sets the given fields of secret `id` (set, never toggle: repeating it is harmless). */
  setSecret(id: string, fields: Partial<SecretFields>): Promise<void>;
  removeSecret(id: string): Promise<void>;
  active(filter?: { name?: string }): Promise<PppActive[]>;
  /** Ends an active session (the client reconnects and gets its secret's current profile). */
  removeActive(id: string): Promise<void>;
  profiles(): Promise<PppProfile[]>;
  identity(): Promise<string>;
  resource(): Promise<RouterResource>;
  close(): Promise<void>;
}
