// The RouterOS API protocol (TCP 8728, TLS 8729) as a transport for the port's `exec` (port.ts). Every command is
// sent with a `.tag`, so many commands are in flight on one connection at once and their replies (which RouterOS
// may interleave) are matched by tag: `!re` rows, `!empty` (RouterOS 7.18+: a print with no rows), `!trap` (the
// command failed; its `!done` follows), `!done` (with `=ret=` for an add), `!fatal` (the router ends the session).
// Connections are pooled per router (RouterTarget.key): a few sockets, logged in once (the post-6.43 `/login` with
// name and password), shared by every caller and closed after a minute idle. Nothing here logs or returns a password.
import { createHash } from 'node:crypto';
import { type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { attributesOf, encodeSentence, SentenceReader, tagOf } from './api-wire.ts';
import { type Exec, RouterError, type RouterTarget, type RouterTransport, type Row } from './port.ts';

export interface ApiPoolOptions {
  /** Sockets per router; default 2. Commands are pipelined on them with tags. */
  maxConnections?: number;
  /** A socket with nothing in flight for this long is closed; default 60,000 ms. */
  idleMs?: number;
  /** Commands written to one socket before their answers come back; more wait here; default 256. */
  maxInFlight?: number;
}

const DEFAULTS = { maxConnections: 2, idleMs: 60_000, maxInFlight: 256 };
const DEFAULT_TIMEOUT_MS = 5_000;

interface Command {
  words: string[];
  rows: Row[];
  ret?: string;
  trap?: string;
  timer?: NodeJS.Timeout;
  resolve(value: { rows: Row[]; ret?: string }): void;
  reject(error: RouterError): void;
}

const failure = (error: unknown): string => {
  const e = error as NodeJS.ErrnoException;
  return e?.code ? `${e.code}${e.message && !e.message.includes(e.code) ? `: ${e.message}` : ''}` : String(error);
};

/** One logged-in socket to one router. */
class ApiConnection {
  private readonly socket: Socket;
  private readonly reader = new SentenceReader();
  private readonly inFlight = new Map<string, Command>();
  private readonly waiting: Command[] = [];
  private readonly options: typeof DEFAULTS;
  private readonly timeoutMs: number;
  private readonly onGone: (c: ApiConnection) => void;
  private nextTag = 1;
  private pumpScheduled = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Set once the socket is no longer usable; every command on it has been settled. */
  broken = false;
  /** Removed from its pool (the router's settings changed): closes once idle. */
  retiring = false;

  private constructor(socket: Socket, options: typeof DEFAULTS, timeoutMs: number, onGone: (c: ApiConnection) => void) {
    this.socket = socket;
    this.options = options;
    this.timeoutMs = timeoutMs;
    this.onGone = onGone;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.fail('fatal', `connection to the router broke (${failure(e)})`));
    socket.on('close', () => this.fail('fatal', 'the router closed the connection'));
  }

  /** Connects and logs in; rejects 'unreachable' (no connection), 'auth' (login refused) or 'timeout'. */
  static open(target: RouterTarget, options: typeof DEFAULTS, onGone: (c: ApiConnection) => void) {
    const timeoutMs = target.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const port = target.port ?? (target.tls ? 8729 : 8728);
    return new Promise<ApiConnection>((resolve, reject) => {
      const socket = target.tls
        ? tlsConnect({ host: target.host, port, rejectUnauthorized: target.allowSelfSigned === false })
        : tcpConnect({ host: target.host, port });
      const where = `${target.host}:${port}`;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RouterError('unreachable', `no connection to ${where} within ${timeoutMs} ms`));
      }, timeoutMs);
      const refused = (e: Error) => {
        clearTimeout(timer);
        reject(new RouterError('unreachable', `cannot connect to ${where} (${failure(e)})`));
      };
      socket.once('error', refused);
      socket.once(target.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', refused);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 30_000);
        const conn = new ApiConnection(socket, options, timeoutMs, onGone);
        conn.login(target.username, target.password).then(
          () => resolve(conn),
          (e: RouterError) => {
            conn.close();
            reject(e);
          },
        );
      });
    });
  }

  /** The post-6.43 login: name and password in one `/login`. A pre-6.43 router answers a challenge instead. */
  private async login(name: string, password: string) {
    let reply: { ret?: string };
    try {
      reply = await this.run(['/login', `=name=${name}`, `=password=${password}`]);
    } catch (e) {
      if (e instanceof RouterError && e.kind === 'trap') throw new RouterError('auth', `login refused: ${e.message}`);
      throw e;
    }
    if (reply.ret !== undefined) {
      throw new RouterError(
        'auth',
        'the router asks for the pre-6.43 challenge login; RouterOS 6.43 or newer is needed',
      );
    }
  }

  /** Commands on this socket not yet answered (written or waiting to be). */
  get load() {
    return this.inFlight.size + this.waiting.length;
  }

  run(words: string[]): Promise<{ rows: Row[]; ret?: string }> {
    if (this.broken) return Promise.reject(new RouterError('fatal', 'the connection to the router is closed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ words, rows: [], resolve, reject });
      this.busy();
      if (!this.pumpScheduled) {
        this.pumpScheduled = true;
        queueMicrotask(() => this.pump());
      }
    });
  }

  /** Writes waiting commands up to the in-flight window, corked into as few writes as possible. */
  private pump() {
    this.pumpScheduled = false;
    if (this.broken) return;
    this.socket.cork();
    while (this.waiting.length > 0 && this.inFlight.size < this.options.maxInFlight) {
      const command = this.waiting.shift() as Command;
      const tag = String(this.nextTag++);
      this.inFlight.set(tag, command);
      command.timer = setTimeout(() => this.timedOut(tag), this.timeoutMs);
      this.socket.write(encodeSentence([...command.words, `.tag=${tag}`]));
    }
    this.socket.uncork();
  }

  private onData(chunk: Buffer) {
    let sentences: string[][];
    try {
      sentences = this.reader.push(chunk);
    } catch (e) {
      this.fail('protocol', e instanceof Error ? e.message : String(e));
      return;
    }
    for (const words of sentences) {
      this.onSentence(words);
      if (this.broken) return;
    }
    if (this.inFlight.size < this.options.maxInFlight && this.waiting.length > 0) this.pump();
  }

  private onSentence(words: string[]) {
    const reply = words[0];
    if (reply === '!fatal') {
      this.fail('fatal', `the router ended the session: ${words[1] ?? 'no reason given'}`);
      return;
    }
    const tag = tagOf(words);
    const command = tag === null ? undefined : this.inFlight.get(tag);
    if (!command || tag === null) return; // the answer to a command that already timed out
    switch (reply) {
      case '!re': {
        const row = attributesOf(words);
        command.rows.push(row);
        break;
      }
      case '!empty':
        break;
      case '!trap':
        command.trap = attributesOf(words).message ?? 'the router refused the command';
        break;
      case '!done': {
        this.inFlight.delete(tag);
        clearTimeout(command.timer);
        const done = attributesOf(words);
        // Some RouterOS versions refuse a login with a `!done` carrying `=message=` instead of a `!trap`.
        if (command.trap === undefined && command.words[0] === '/login' && done.message) command.trap = done.message;
        if (command.trap !== undefined) command.reject(new RouterError('trap', command.trap));
        else {
          const ret = done.ret;
          command.resolve(ret === undefined ? { rows: command.rows } : { rows: command.rows, ret });
        }
        if (this.load === 0) this.idle();
        break;
      }
      default:
        this.fail('protocol', `unknown reply word ${JSON.stringify(reply)} from the router`);
    }
  }

  private timedOut(tag: string) {
    const command = this.inFlight.get(tag);
    if (!command) return;
    this.inFlight.delete(tag);
    command.reject(new RouterError('timeout', `no answer from the router within ${this.timeoutMs} ms`));
    // A router this slow may still answer later, or never: the socket is dropped rather than trusted.
    this.fail('timeout', 'the connection was dropped after another command on it timed out');
  }

  /** Ends the socket and settles every command on it with `kind`. */
  private fail(kind: 'fatal' | 'timeout' | 'protocol', message: string) {
    if (this.broken) return;
    this.broken = true;
    clearTimeout(this.idleTimer);
    const all = [...this.inFlight.values(), ...this.waiting];
    this.inFlight.clear();
    this.waiting.length = 0;
    for (const command of all) {
      clearTimeout(command.timer);
      command.reject(new RouterError(kind, message));
    }
    this.socket.destroy();
    this.onGone(this);
  }

  private busy() {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.socket.ref();
  }

  /** Nothing in flight: the socket no longer keeps the process alive, and closes after idleMs. */
  private idle() {
    if (this.retiring) {
      this.close();
      return;
    }
    this.socket.unref();
    this.idleTimer = setTimeout(() => this.close(), this.options.idleMs);
    this.idleTimer.unref();
  }

  close() {
    if (this.broken) return;
    this.broken = true;
    clearTimeout(this.idleTimer);
    this.socket.end();
    this.onGone(this);
  }
}

interface Pool {
  signature: string;
  live: ApiConnection[];
  opening: Set<Promise<ApiConnection>>;
}

const pools = new Map<string, Pool>();

/** What a pooled socket was opened with: a changed host, port or login makes new sockets. */
const signatureOf = (t: RouterTarget) =>
  createHash('sha256')
    .update(JSON.stringify([t.host, t.port, t.tls, t.allowSelfSigned, t.username, t.password, t.timeoutMs]))
    .digest('hex');

function poolFor(target: RouterTarget): Pool {
  const signature = signatureOf(target);
  let pool = pools.get(target.key);
  if (pool && pool.signature !== signature) {
    for (const c of pool.live) {
      c.retiring = true;
      if (c.load === 0) c.close();
    }
    pool = undefined;
  }
  if (!pool) {
    pool = { signature, live: [], opening: new Set() };
    pools.set(target.key, pool);
  }
  return pool;
}

/** A socket for the next command: an idle one, else a new one while under the limit, else the least loaded. */
async function acquire(target: RouterTarget, options: typeof DEFAULTS): Promise<ApiConnection> {
  for (;;) {
    const pool = poolFor(target);
    const idle = pool.live.find((c) => c.load === 0);
    if (idle) return idle;
    if (pool.live.length + pool.opening.size < options.maxConnections) {
      const opening = ApiConnection.open(target, options, (gone) => {
        const i = pool.live.indexOf(gone);
        if (i >= 0) pool.live.splice(i, 1);
      });
      pool.opening.add(opening);
      try {
        const conn = await opening;
        pool.live.push(conn);
        return conn;
      } finally {
        pool.opening.delete(opening);
      }
    }
    if (pool.live.length > 0) return pool.live.reduce((a, b) => (b.load < a.load ? b : a));
    await Promise.race(pool.opening);
  }
}

/** The API protocol transport for one router; its sockets are shared with every other client of the same key. */
export function apiTransport(target: RouterTarget, poolOptions: ApiPoolOptions = {}): RouterTransport {
  const options = { ...DEFAULTS, ...poolOptions };
  const exec: Exec = async (command, attributes = {}, query = []) => {
    if (!command.startsWith('/')) throw new RouterError('protocol', `not a RouterOS command: ${command}`);
    const words = [command];
    for (const [name, value] of Object.entries(attributes)) words.push(`=${name}=${value}`);
    for (const word of query) words.push(`?${word}`);
    const conn = await acquire(target, options);
    return conn.run(words);
  };
  // The sockets belong to the pool, not to this client: closing a client leaves them for the next caller.
  return { exec, close: async () => {} };
}

/** Closes the pooled sockets of one router (deleted or edited), or of every router (shutdown). */
export function closeApiConnections(key?: string) {
  for (const [k, pool] of pools) {
    if (key !== undefined && k !== key) continue;
    for (const c of [...pool.live]) c.close();
    pools.delete(k);
  }
}

/** Sockets currently pooled for a router (tests and health reporting). */
export const apiConnectionCount = (key: string) => pools.get(key)?.live.length ?? 0;
