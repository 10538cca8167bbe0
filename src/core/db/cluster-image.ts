// A new embedded database starts from a saved image of a cluster instead of running initdb and every migration.
//
// PGlite creates a cluster with initdb inside WebAssembly on every new data directory (and on every in-memory
// database): 3–12 s on a 2-core machine, most of a first start. The cluster initdb makes is the same every time for
// one PGlite version, so the first new database on a machine saves it (`dumpDataDir`, an uncompressed tar of about
// 40 MB) and every later new database loads that image (`loadDataDir`), which takes a fraction of the time.
//
// A second image, the *schema image*, is the same cluster with every migration applied and nothing else written:
// saved right after a new database's migrations ran, named after the PGlite version and a hash of the migration
// files (`migrationsKey`), so that a changed or added migration simply names a different image and the old one is
// never loaded; saving a new one deletes the others. A new database loads the schema image when there is one for
// today's migrations (nothing left to migrate), else the empty cluster's, else runs initdb.
// The images live under node_modules/.cache (the npm convention for caches that a reinstall may drop); where that
// directory cannot be written (a read-only install), databases are simply created the slow way.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openAsBlob,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, sep } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Where the image for the installed PGlite version is kept: in `dir` when given (`off`: nowhere), else in
 * node_modules/.cache/loket; undefined when there is to be none or PGlite's install cannot be found.
 */
export function clusterImagePath(dir?: string): string | undefined {
  if (dir === 'off') return undefined;
  try {
    // The package exports no package.json: find its install from its entry point.
    const entry = require.resolve('@electric-sql/pglite');
    const at = entry.lastIndexOf(`${sep}node_modules${sep}`);
    if (at < 0) return undefined;
    const nodeModules = entry.slice(0, at + sep.length + 'node_modules'.length);
    const manifest = join(nodeModules, '@electric-sql', 'pglite', 'package.json');
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
    return join(dir ?? join(nodeModules, '.cache', 'loket'), `pglite-${version}-empty-cluster.tar`);
  } catch {
    return undefined;
  }
}

/** The saved image (a Blob backed by the file, read once by PGlite), or undefined when there is none yet. */
export async function readClusterImage(path: string | undefined): Promise<Blob | undefined> {
  if (!path) return undefined;
  try {
    return await openAsBlob(path);
  } catch {
    return undefined;
  }
}

/**
 * Saves the image of a cluster that initdb has just made and nothing has touched yet. Written to a temporary name
 * and renamed, so that two processes creating databases at once never leave a half-written image for a third.
 */
export async function saveClusterImage(path: string, image: Blob): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, Buffer.from(await image.arrayBuffer()));
  renameSync(tmp, path);
}

/** The schema image for the migrations whose hash is `key`, beside the empty cluster's image. */
export function schemaImagePath(dir: string | undefined, key: string): string | undefined {
  const empty = clusterImagePath(dir);
  return empty?.replace(/-empty-cluster\.tar$/, `-schema-${key}.tar`);
}

/**
 * Deletes every schema image in `path`'s folder but `path` itself, and their spare clusters: they belong to
 * migrations that changed since.
 */
export function pruneSchemaImages(path: string): void {
  const keep = basename(path);
  const prefix = keep.slice(0, keep.lastIndexOf('-schema-') + '-schema-'.length);
  for (const file of readdirSync(dirname(path))) {
    if (file === keep || file === basename(spareClusterPath(path)) || !file.startsWith(prefix)) continue;
    if (file.endsWith('.tar') || file.includes('.spare')) {
      rmSync(join(dirname(path), file), { recursive: true, force: true });
    }
  }
}

// The spare cluster. Unpacking the schema image means creating about 1,300 files, and creating files is the slow
// part on a small machine's disk: 0.1 s on a quiet one, over 1 s while the system is still writing out what was
// just installed (docs/PERFORMANCE.md). `db prepare` (npm install) therefore also unpacks the schema image once
// into a spare directory beside it, and the first new data directory on the same file system takes that spare
// with one rename instead of creating the files. Only one database ever takes a given spare (rename is atomic);
// every later new directory unpacks the image as before.

/** Where the unpacked copy of the schema image at `schemaPath` is kept. */
export function spareClusterPath(schemaPath: string): string {
  return schemaPath.replace(/\.tar$/, '.spare');
}

/** Unpacks the schema image into its spare directory unless a complete one is there. Throws when it cannot. */
export function prepareSpareCluster(schemaPath: string): void {
  const spare = spareClusterPath(schemaPath);
  if (existsSync(join(spare, 'PG_VERSION'))) return;
  const tmp = `${spare}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { mode: 0o700 });
  try {
    extractImage(schemaPath, tmp);
    rmSync(spare, { recursive: true, force: true });
    renameSync(tmp, spare);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Moves the spare cluster of `schemaPath` into `dataDir`, a new and empty directory; false (and nothing changed)
 * when there is no spare, another process took it first, it belongs to another user, or it lies on another file
 * system.
 */
export function takeSpareCluster(schemaPath: string, dataDir: string): boolean {
  const spare = spareClusterPath(schemaPath);
  try {
    if (!existsSync(join(spare, 'PG_VERSION'))) return false;
    if (process.getuid && statSync(spare).uid !== process.getuid()) return false;
    renameSync(spare, dataDir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes the files of an image (a plain tar as PGlite's `dumpDataDir('none')` makes it: regular files and folders)
 * into the empty data directory `dir`, reading it in pieces. A new database on disk then starts as an existing one
 * does, without PGlite's `loadDataDir`, which unpacks the whole image inside the WebAssembly heap: that heap never
 * shrinks, so a first start held ~130 MB more for its whole life than a restart. Throws on anything it does not
 * understand (the caller treats that as a damaged image).
 */
export function extractImage(image: string, dir: string): void {
  const fd = openSync(image, 'r');
  try {
    const header = Buffer.alloc(512);
    const chunk = Buffer.alloc(1 << 20);
    let at = 0;
    for (;;) {
      if (readSync(fd, header, 0, 512, at) !== 512) throw new Error('the image ends inside a header');
      at += 512;
      if (header.every((b) => b === 0)) return; // the end-of-archive block
      const field = (from: number, length: number) =>
        header
          .subarray(from, from + length)
          .toString('utf8')
          .replace(/\0.*$/s, '');
      const size = Number.parseInt(field(124, 12).trim() || '0', 8);
      const prefix = field(345, 155);
      const name = (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100)).replace(/^\/+/, '');
      const type = field(156, 1) || '0';
      const target = join(dir, name);
      if (!Number.isFinite(size) || name.split('/').includes('..') || !target.startsWith(join(dir, sep))) {
        throw new Error(`the image holds an entry it should not: ${name}`);
      }
      if (type === '5') {
        mkdirSync(target, { recursive: true, mode: 0o700 });
      } else if (type === '0') {
        mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
        const out = openSync(target, 'w', 0o600);
        try {
          for (let left = size, from = at; left > 0; ) {
            const n = readSync(fd, chunk, 0, Math.min(chunk.length, left), from);
            if (n <= 0) throw new Error('the image ends inside a file');
            writeSync(out, chunk, 0, n);
            left -= n;
            from += n;
          }
        } finally {
          closeSync(out);
        }
      } else {
        throw new Error(`the image holds an entry of type ${type}`);
      }
      at += Math.ceil(size / 512) * 512;
    }
  } finally {
    closeSync(fd);
  }
}
