// Picks the object store from the configuration: S3 when S3_ENDPOINT is set, otherwise the local disk under
// STORAGE_DIR (default LOKET_DATA_DIR/files). With the in-memory embedded database (`memory://`) nothing is meant to
// outlive the process, so files go to a fresh temporary directory.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../config.ts';
import { createS3Store } from './s3.ts';
import { createLocalStore, type ObjectStore } from './store.ts';

export type { ObjectStore, StoredObject } from './store.ts';
export { StorageError } from './store.ts';

export function localStorageDir(config: Pick<Config, 'storageDir' | 'dataDir'>): string {
  if (config.storageDir) return config.storageDir;
  if (config.dataDir.startsWith('memory://')) return join(tmpdir(), `loket-files-${randomBytes(6).toString('hex')}`);
  return join(config.dataDir, 'files');
}

export function createObjectStore(
  config: Pick<Config, 's3' | 'storageDir' | 'dataDir'>,
  now: () => Date = () => new Date(),
): ObjectStore {
  return config.s3 ? createS3Store(config.s3, now) : createLocalStore(localStorageDir(config));
}
