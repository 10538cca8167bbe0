// Where uploaded files live: one small port with two adapters, the local disk (the default) and any S3-compatible
// object store (`s3.ts`). Keys are plain relative paths the caller builds (`<module>/<reference>/abc.jpg`); the store
// refuses anything else, so a key can never climb out of the local root or change the meaning of an S3 URL.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';

export interface StoredObject {
  body: Readable;
  size: number | undefined;
  /** What the store recorded at `put` (S3); the local store keeps none. */
  contentType: string | undefined;
}

export interface ObjectStore {
  readonly kind: 'local' | 's3';
  /** Stores the bytes under `key`, replacing what was there. */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** The object, or null when there is none. */
  get(key: string): Promise<StoredObject | null>;
  /** Removes the object; removing one that is not there is not an error. */
  delete(key: string): Promise<void>;
}

/** The store failed (unreachable, refused, misconfigured). Messages carry no credentials. */
export class StorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageError';
  }
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,7}$/;

export function assertKey(key: string): void {
  if (!KEY.test(key) || key.split('/').some((s) => s === '.' || s === '..')) {
    throw new StorageError('invalid object key');
  }
}

export function createLocalStore(root: string): ObjectStore {
  const base = resolve(root);
  const pathOf = (key: string) => {
    assertKey(key);
    const p = resolve(join(base, key));
    if (!p.startsWith(base + sep)) throw new StorageError('invalid object key');
    return p;
  };
  return {
    kind: 'local',
    async put(key, body) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      // Write then rename: a reader never sees half a file, and a crash leaves at most a stray temporary file.
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(tmp, body, { mode: 0o640 });
      await rename(tmp, path);
    },
    async get(key) {
      const path = pathOf(key);
      try {
        const s = await stat(path);
        if (!s.isFile()) return null;
        return { body: createReadStream(path), size: s.size, contentType: undefined };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}
