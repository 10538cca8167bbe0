// What the load benchmarks share: a fresh database, the compiled server as its own process, its RSS.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export const ROOT = join(import.meta.dirname, '..');
export const PG_BASE = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';

export async function freshDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return `${PG_BASE}/${name}`;
}

export interface Server {
  child: ChildProcess;
  pid: number;
  stop(): void;
}

/**
 * Starts `dist/src/main.js serve` as `npm start` runs it (building first when needed), with `BENCH_PROFILE=dir`
 * adding a CPU profile, and resolves once /health answers. A server that dies during the run fails the bench.
 */
export async function startServer(env: Record<string, string>, port: number): Promise<Server> {
  const main = join(ROOT, 'dist/src/main.js');
  if (!existsSync(main)) spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, '--optimize-for-size', main, 'serve'], {
    cwd: ROOT,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const died = (code: number | null) => {
    throw new Error(`server exited with ${code}`);
  };
  child.on('exit', died);
  for (let i = 0; i < 300; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) {
      return {
        child,
        pid: child.pid as number,
        stop: () => {
          child.off('exit', died);
          child.kill('SIGTERM');
        },
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}
