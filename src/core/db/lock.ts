// The embedded database belongs to one process: PGlite runs PostgreSQL inside it, and a second process opening the
// same directory corrupts it or aborts. A lock file beside the data (`<LOKET_DATA_DIR>/loket.lock`, the holder's
// pid) keeps a second opener out. A lock whose process is gone (a crash, a kill -9) is stale and taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const LOCK_FILE = 'loket.lock';

export interface LockHolder {
  pid: number;
  started_at: string;
  /** `serve` when a server holds it (its control socket then answers), else the CLI command that does. */
  role: string;
}

export class DataDirLocked extends Error {
  readonly dataDir: string;
  readonly holder: LockHolder;
  constructor(dataDir: string, holder: LockHolder) {
    super(
      `the embedded database in ${dataDir} is in use by ${holder.role === 'serve' ? 'a running Loket server' : `\`loket ${holder.role}\``} (pid ${holder.pid}, since ${holder.started_at}); stop it first, or run this command while it serves (commands that can go through the server do so)`,
    );
    this.dataDir = dataDir;
    this.holder = holder;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else; it is alive all the same.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { pid, started_at, role } = parsed as Record<string, unknown>;
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
    return {
      pid,
      started_at: typeof started_at === 'string' ? started_at : 'unknown',
      role: typeof role === 'string' ? role : 'unknown',
    };
  } catch {
    return undefined;
  }
}

function youngerThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < ms;
  } catch {
    return false;
  }
}

/** The live process holding the directory, if any (a stale or unreadable lock counts as none). */
export function lockHolder(dataDir: string): LockHolder | undefined {
  const holder = readHolder(join(resolve(dataDir), LOCK_FILE));
  return holder && holder.pid !== process.pid && alive(holder.pid) ? holder : undefined;
}

/**
 * Takes the directory for this process, or throws DataDirLocked naming the live holder. The file is created
 * exclusively (O_EXCL), so two processes starting together cannot both win; a stale file is removed and the
 * creation tried again. Returns the release function.
 */
export function lockDataDir(dataDir: string, role: string): () => void {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 20; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(path);
      if (holder && holder.pid !== process.pid && alive(holder.pid)) throw new DataDirLocked(dir, holder);
      if (!holder && youngerThan(path, 2000)) {
        // Another process has just created it and not yet written its pid: give it a moment.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
        continue;
      }
      // Stale (its process is gone), unreadable (a crash between create and write), or our own pid reused by a
      // new process after a reboot: take it over.
      rmSync(path, { force: true });
      continue;
    }
    const me: LockHolder = { pid: process.pid, started_at: new Date().toISOString(), role };
    writeSync(fd, JSON.stringify(me));
    closeSync(fd);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Only our own lock: never remove one a later holder took over.
      if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true });
    };
  }
  throw new Error(`could not take the lock ${path}; another process keeps replacing it`);
}
