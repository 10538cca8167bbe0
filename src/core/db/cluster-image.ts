// A new embedded database starts from a saved image of an empty PostgreSQL cluster instead of running initdb.
//
// PGlite creates a cluster with initdb inside WebAssembly on every new data directory (and on every in-memory
// database): 3–12 s on a 2-core machine, most of a first start. The cluster initdb makes is the same every time for
// one PGlite version, so the first new database on a machine saves it (`dumpDataDir`, an uncompressed tar of about
// 40 MB) and every later new database loads that image (`loadDataDir`), which takes a fraction of the time.
// Migrations still run on top as usual: the image holds no schema of ours, so it never goes stale when migrations
// change. The image lives under node_modules/.cache (the npm convention for caches that a reinstall may drop);
// where that directory cannot be written (a read-only install), databases are simply created the slow way.
import { mkdirSync, openAsBlob, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

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
