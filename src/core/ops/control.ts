// The control channel of a server on the embedded database: a unix socket beside the data
// (`<LOKET_DATA_DIR>/loket.sock`, mode 0600: only the user running Loket, only on this machine). The CLI sends a
// command there instead of opening the database a server holds (see core/db/lock.ts); the server runs it on its own
// connection and streams the output back. One JSON object per line: the request `{"argv": [...]}`, then any number
// of `{"out": "..."}` and one `{"exit": 0}` or `{"exit": 1, "error": "..."}`.
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';

export const CONTROL_SOCKET = 'loket.sock';

export const controlSocketPath = (dataDir: string) => join(resolve(dataDir), CONTROL_SOCKET);

export type ControlHandler = (argv: string[], out: (text: string) => void) => Promise<void>;

/**
 * Listens on the control socket. The caller holds the data directory's lock, so a socket file already there is a
 * leftover of a process that died and is replaced. Commands run one at a time, in arrival order.
 */
export async function startControlServer(
  dataDir: string,
  handler: ControlHandler,
): Promise<{ close(): Promise<void> }> {
  const path = controlSocketPath(dataDir);
  rmSync(path, { force: true });
  let queue: Promise<void> = Promise.resolve();
  const server: Server = createServer((socket) => {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) {
        if (buffered.length > 64_000) socket.destroy();
        return;
      }
      const line = buffered.slice(0, nl);
      buffered = '';
      socket.removeAllListeners('data');
      const send = (v: unknown) => {
        if (!socket.destroyed) socket.write(`${JSON.stringify(v)}\n`);
      };
      let argv: string[] | undefined;
      try {
        const parsed: unknown = JSON.parse(line);
        const a = (parsed as { argv?: unknown }).argv;
        if (Array.isArray(a) && a.every((x) => typeof x === 'string')) argv = a;
      } catch {}
      if (!argv) {
        send({ exit: 2, error: 'expected {"argv": [strings]}' });
        socket.end();
        return;
      }
      const run = argv;
      queue = queue.then(async () => {
        try {
          await handler(run, (text) => send({ out: text }));
          send({ exit: 0 });
        } catch (err) {
          send({ exit: 1, error: err instanceof Error ? err.message : String(err) });
        }
        socket.end();
      });
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(path, () => ok());
  });
  chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        if (existsSync(path)) rmSync(path, { force: true });
      }),
  };
}

/**
 * Sends a command to the server on `dataDir`: undefined when no server answers there (no socket, or nobody
 * listening), else its exit code, after writing its output with `out`.
 */
export function sendControl(dataDir: string, argv: string[], out: (text: string) => void): Promise<number | undefined> {
  const path = controlSocketPath(dataDir);
  if (!existsSync(path)) return Promise.resolve(undefined);
  return new Promise((ok, fail) => {
    const socket = createConnection(path);
    let connected = false;
    let buffered = '';
    let exit: number | undefined;
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify({ argv })}\n`);
    });
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const msg = JSON.parse(buffered.slice(0, nl)) as { out?: string; exit?: number; error?: string };
        buffered = buffered.slice(nl + 1);
        if (typeof msg.out === 'string') out(msg.out);
        if (typeof msg.exit === 'number') {
          exit = msg.exit;
          if (msg.error) fail(new Error(msg.error));
        }
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ECONNREFUSED' || err.code === 'ENOENT')) ok(undefined);
      else fail(err);
    });
    socket.on('close', () => {
      if (exit === undefined && connected) fail(new Error('the server closed the control channel without an answer'));
      else ok(exit);
    });
  });
}
