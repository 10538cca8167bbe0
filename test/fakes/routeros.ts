// A fake RouterOS for tests: real sockets speaking the RouterOS API protocol (TCP, or TLS with a self-signed
// certificate made at test time) and the REST API of RouterOS 7 (HTTP or HTTPS), both answering from the same
// in-memory RouterEngine the `simulator` router runs on, so each transport is held to one behaviour.
//
// The fake reads and writes the wire format with its own code, written apart from the client's api-wire.ts and in
// another style (a byte-at-a-time state machine, arithmetic instead of bit masks): a misreading of the protocol
// shared by both would pass every test, so nothing is shared but the rules themselves.
//
// It can require a login, answer slowly, cut a reply in half and close the socket, hold replies back and answer
// them out of order with their sentences interleaved, send `!empty` for an empty print (RouterOS 7.18+) or not, and
// count connections and sentences (to show that commands share a socket).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { RouterEngine } from '../../src/modules/billing/providers/routeros/engine.ts';
import { RouterError } from '../../src/modules/billing/providers/routeros/port.ts';
import { readBody } from './http.ts';

// ---- the wire format, the fake's own way -------------------------------------------------------------------------

/** The length prefix of a word, by arithmetic on the documented ranges. */
export function fakeLengthPrefix(n: number): Buffer {
  const bytes = (count: number, base: number) => {
    const out: number[] = [];
    let rest = n;
    for (let i = 0; i < count; i++) {
      out.unshift(rest % 256);
      rest = Math.floor(rest / 256);
    }
    out[0] = (out[0] as number) + base;
    return out;
  };
  if (n <= 0x7f) return Buffer.from([n]);
  if (n <= 0x3fff) return Buffer.from(bytes(2, 0x80));
  if (n <= 0x1fffff) return Buffer.from(bytes(3, 0xc0));
  if (n <= 0xfffffff) return Buffer.from(bytes(4, 0xe0));
  return Buffer.from([0xf0, ...bytes(4, 0)]);
}

function fakeSentence(words: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const w of words) {
    const data = Buffer.from(w, 'utf8');
    parts.push(fakeLengthPrefix(data.length), data);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Reads the stream one prefix byte at a time, then copies word bodies as they come. */
export class FakeWireDecoder {
  private prefix: number[] = [];
  private remaining = -1; // -1: inside a length prefix
  private body: Buffer[] = [];
  private words: string[] = [];

  /** How many bytes a prefix starting with `first` has, or 0 for a reserved control byte. */
  static prefixSize(first: number) {
    if (first <= 0x7f) return 1;
    if (first <= 0xbf) return 2;
    if (first <= 0xdf) return 3;
    if (first <= 0xef) return 4;
    return first === 0xf0 ? 5 : 0;
  }

  /** The length a complete prefix says. */
  static prefixValue(prefix: number[]): number {
    const first = prefix[0] as number;
    const size = prefix.length;
    let value =
      size === 1 ? first : size === 2 ? first - 0x80 : size === 3 ? first - 0xc0 : size === 4 ? first - 0xe0 : 0;
    for (let i = 1; i < size; i++) value = value * 256 + (prefix[i] as number);
    return value;
  }

  feed(chunk: Buffer): string[][] {
    const sentences: string[][] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining < 0) {
        this.prefix.push(chunk[i++] as number);
        const size = FakeWireDecoder.prefixSize(this.prefix[0] as number);
        if (size === 0) throw new Error('control byte in the stream');
        if (this.prefix.length < size) continue;
        const length = FakeWireDecoder.prefixValue(this.prefix);
        this.prefix = [];
        if (length === 0) {
          if (this.words.length) sentences.push(this.words);
          this.words = [];
        } else this.remaining = length;
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - i);
      this.body.push(chunk.subarray(i, i + take));
      i += take;
      this.remaining -= take;
      if (this.remaining === 0) {
        this.words.push(Buffer.concat(this.body).toString('utf8'));
        this.body = [];
        this.remaining = -1;
      }
    }
    return sentences;
  }
}

// ---- a self-signed certificate, made once per test process by the machine's openssl --------------------------

let certificate: { key: string; cert: string } | undefined;

export function selfSignedCertificate() {
  if (!certificate) {
    const dir = mkdtempSync(join(tmpdir(), 'fake-routeros-'));
    try {
      const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
      const args = `req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=fake-routeros
        -addext subjectAltName=IP:127.0.0.1`.split(/\s+/);
      execFileSync('openssl', [...args, '-keyout', key, '-out', cert], { stdio: 'ignore' });
      certificate = {
        key: readFileSync(key, 'utf8'),
        cert: readFileSync(cert, 'utf8'),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return certificate;
}

// ---- the API protocol server -----------------------------------------------------------------------------------

export interface FakeRouterOptions {
  engine?: RouterEngine;
  username?: string;
  password?: string;
  tls?: boolean;
  /** Each reply is sent this long after its command arrived. */
  delayMs?: number;
  /** Send `!empty` before `!done` for a print with no rows; default: when the engine's version is 7.18 or later. */
  emptyReplies?: boolean;
  /** Hold replies until this many commands wait, then answer them last first, their sentences interleaved. */
  interleave?: number;
  /** Write half of this command's reply, then close the socket. */
  dropMidReply?: (command: string) => boolean;
  /** Refuse a login with `!done =message=…` (as some RouterOS versions do) instead of `!trap`. */
  loginRefusedWithDone?: boolean;
}

export interface FakeRouterStats {
  connections: number;
  sentences: number;
  logins: number;
  failedLogins: number;
  /** Reply sentences sent, by their first word (`!re`, `!empty`, `!done`, `!trap`, `!fatal`). */
  replies: Record<string, number>;
}

export interface FakeRouter {
  port: number;
  engine: RouterEngine;
  options: FakeRouterOptions;
  stats: FakeRouterStats;
  close(): Promise<void>;
}

const versionAtLeast = (version: string, major: number, minor: number) => {
  const [a = 0, b = 0] = version.split(/[.\s]/).map(Number);
  return a > major || (a === major && b >= minor);
};

const listen = (server: Server) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });

/** Runs one command on the engine: the reply sentences RouterOS would send (without tags). */
function answer(engine: RouterEngine, options: FakeRouterOptions, words: string[]): string[][] {
  const [command = '', ...rest] = words;
  const attributes: Record<string, string> = {};
  const query: string[] = [];
  for (const w of rest) {
    if (w.startsWith('=')) {
      const split = w.indexOf('=', 1);
      attributes[split < 0 ? w.slice(1) : w.slice(1, split)] = split < 0 ? '' : w.slice(split + 1);
    } else if (w.startsWith('?')) query.push(w.slice(1));
  }
  try {
    const { rows, ret } = engine.exec(command, attributes, query);
    const out = rows.map((row) => ['!re', ...Object.entries(row).map(([k, v]) => `=${k}=${v}`)]);
    const empty = options.emptyReplies ?? versionAtLeast(engine.version, 7, 18);
    if (rows.length === 0 && empty && command.endsWith('/print')) out.push(['!empty']);
    out.push(ret === undefined ? ['!done'] : ['!done', `=ret=${ret}`]);
    return out;
  } catch (e) {
    if (!(e instanceof RouterError)) throw e;
    const category = e.message === 'no such command prefix' ? '0' : '1';
    return [['!trap', `=category=${category}`, `=message=${e.message}`], ['!done']];
  }
}

export async function startFakeRouter(options: FakeRouterOptions = {}): Promise<FakeRouter> {
  const engine = options.engine ?? new RouterEngine({ profiles: ['paket-10M', 'paket-20M', 'ISOLIR'] });
  const stats: FakeRouterStats = { connections: 0, sentences: 0, logins: 0, failedLogins: 0, replies: {} };
  const sockets = new Set<Socket>();
  const held: { socket: Socket; tag: string | undefined; replies: string[][] }[] = [];

  const send = (socket: Socket, tag: string | undefined, replies: string[][]) => {
    if (socket.destroyed) return;
    // One write per reply: RouterOS sends a reply's sentences together, and a write per sentence would meet Nagle's
    // algorithm and delayed ACKs (40 ms a reply).
    const bytes: Buffer[] = [];
    for (const r of replies) {
      stats.replies[r[0] as string] = (stats.replies[r[0] as string] ?? 0) + 1;
      bytes.push(fakeSentence(tag === undefined ? r : [...r, `.tag=${tag}`]));
    }
    socket.write(Buffer.concat(bytes));
  };

  const releaseHeld = () => {
    const batch = held.splice(0).reverse();
    const rounds = Math.max(...batch.map((b) => b.replies.length));
    for (let r = 0; r < rounds; r++) {
      for (const b of batch) {
        const reply = b.replies[r];
        if (reply) send(b.socket, b.tag, [reply]);
      }
    }
  };

  const onSentence = (socket: Socket, state: { loggedIn: boolean }, words: string[]) => {
    stats.sentences++;
    const tagWord = words.find((w) => w.startsWith('.tag='));
    const tag = tagWord?.slice(5);
    const plain = words.filter((w) => w !== tagWord);
    const command = plain[0] ?? '';
    const fatal = (reason: string) => {
      stats.replies['!fatal'] = (stats.replies['!fatal'] ?? 0) + 1;
      socket.write(fakeSentence(['!fatal', reason]));
      socket.end();
    };
    if (command === '/login') {
      const attrs = Object.fromEntries(
        plain.slice(1).map((w) => [w.slice(1, w.indexOf('=', 1)), w.slice(w.indexOf('=', 1) + 1)]),
      );
      if (attrs.name === (options.username ?? 'admin') && attrs.password === (options.password ?? '')) {
        state.loggedIn = true;
        stats.logins++;
        send(socket, tag, [['!done']]);
      } else {
        stats.failedLogins++;
        const refusal = '=message=invalid user name or password (6)';
        send(socket, tag, options.loginRefusedWithDone ? [['!done', refusal]] : [['!trap', refusal], ['!done']]);
      }
      return;
    }
    if (!state.loggedIn) return fatal('not logged in');
    if (command === '/quit') return fatal('session terminated on request');

    const run = () => {
      if (socket.destroyed) return;
      const replies = answer(engine, options, plain);
      if (options.dropMidReply?.(command)) {
        const bytes = Buffer.concat(replies.map((r) => fakeSentence(tag === undefined ? r : [...r, `.tag=${tag}`])));
        socket.write(bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))));
        socket.destroy();
        return;
      }
      if (options.interleave && options.interleave > 1) {
        held.push({ socket, tag, replies });
        if (held.length >= options.interleave) releaseHeld();
        return;
      }
      send(socket, tag, replies);
    };
    if (options.delayMs) setTimeout(run, options.delayMs);
    else run();
  };

  const onConnection = (socket: Socket) => {
    stats.connections++;
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const decoder = new FakeWireDecoder();
    const state = { loggedIn: false };
    socket.on('data', (chunk: Buffer) => {
      let sentences: string[][];
      try {
        sentences = decoder.feed(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const words of sentences) onSentence(socket, state, words);
    });
  };

  const server = options.tls ? createTlsServer(selfSignedCertificate(), onConnection) : createTcpServer(onConnection);
  const port = await listen(server);
  return {
    port,
    engine,
    options,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---- the REST API server -----------------------------------------------------------------------------------------

export interface FakeRestOptions {
  engine?: RouterEngine;
  username?: string;
  password?: string;
  tls?: boolean;
  delayMs?: number;
  /** Close the socket instead of answering this command. */
  dropMidReply?: (command: string) => boolean;
  /** Answers this command (nothing run yet) only once the promise returned resolves; undefined answers at once. */
  hold?: (command: string, attributes: Record<string, string>) => Promise<void> | undefined;
}

export interface FakeRest {
  port: number;
  engine: RouterEngine;
  options: FakeRestOptions;
  stats: { requests: number; connections: number };
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

export async function startFakeRest(options: FakeRestOptions = {}): Promise<FakeRest> {
  const engine = options.engine ?? new RouterEngine({ profiles: ['paket-10M', 'paket-20M', 'ISOLIR'] });
  const stats = { requests: 0, connections: 0 };
  const expected = `Basic ${Buffer.from(`${options.username ?? 'admin'}:${options.password ?? ''}`).toString('base64')}`;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    const raw = (await readBody(req, 16 * 1024 * 1024)) ?? '';
    if (req.headers.authorization !== expected) return json(res, 401, { error: 401, message: 'Unauthorized' });
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (!path.startsWith('/rest/')) return json(res, 404, { error: 404, message: 'Not Found' });
    const command = req.method === 'GET' ? `${path.slice(5)}/print` : path.slice(5);
    let body: Record<string, unknown> = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      return json(res, 400, { error: 400, message: 'Bad Request', detail: 'JSON parsing error' });
    }
    const attributes: Record<string, string> = {};
    let query: string[] = [];
    for (const [k, v] of Object.entries(body)) {
      if (k === '.query') query = (v as unknown[]).map(String);
      else if (k === '.proplist') attributes[k] = Array.isArray(v) ? v.join(',') : String(v);
      else attributes[k] = typeof v === 'string' ? v : String(v);
    }
    const reply = () => {
      if (options.dropMidReply?.(command)) {
        req.socket.destroy();
        return;
      }
      try {
        const { rows, ret } = engine.exec(command, attributes, query);
        if (command.endsWith('/print')) return json(res, 200, rows);
        return json(res, 200, ret === undefined ? [] : { ret });
      } catch (e) {
        if (!(e instanceof RouterError)) throw e;
        return json(res, 400, { error: 400, message: 'Bad Request', detail: e.message });
      }
    };
    const held = options.hold?.(command, attributes);
    if (held) await held;
    if (options.delayMs) setTimeout(reply, options.delayMs);
    else reply();
  };

  const server = options.tls
    ? createHttpsServer(selfSignedCertificate(), (req, res) => void handle(req, res))
    : createHttpServer((req, res) => void handle(req, res));
  server.on('connection', () => stats.connections++);
  const port = await listen(server as unknown as Server);
  return {
    port,
    engine,
    options,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
