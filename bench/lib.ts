// What the load benchmarks share: a fresh database, the compiled server as its own process, its RSS.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { buildApp } from '../src/app.ts';

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

/** Node's flags from `npm start` (package.json), or BENCH_NODE_FLAGS to try others. */
function startFlags(): string[] {
  if (process.env.BENCH_NODE_FLAGS !== undefined) return process.env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean);
  const start: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start;
  return (/node (.*?)dist\/src\/main\.js/.exec(start)?.[1] ?? '').split(/\s+/).filter(Boolean);
}

/**
 * Starts `dist/src/main.js serve` as `npm start` runs it, with its Node flags (building first when needed), with `BENCH_PROFILE=dir`
 * adding a CPU profile, and resolves once /health answers. A server that dies during the run fails the bench.
 */
export async function startServer(env: Record<string, string>, port: number): Promise<Server> {
  const main = join(ROOT, 'dist/src/main.js');
  if (!existsSync(main)) spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, ...startFlags(), main, 'serve'], {
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

export interface LoadResult {
  rps: number;
  requests: number;
  /** Non-2xx/3xx answers plus connect, read, write errors and timeouts. */
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

// One wrk thread by default: it drives more than 20,000 requests/s here (a bare Node http server), more than any
// Loket endpoint answers, and takes at most one of the machine's two cores from the server and PostgreSQL.
const WRK_THREADS = Number(process.env.BENCH_WRK_THREADS ?? 1);
const SETTLE_MS = 1000;

/**
 * Drives `url` with wrk (Debian package `wrk`: a C load generator, so that on a 2-core machine the load itself takes
 * as little CPU from the server as possible). `script` is Lua defining `request()` (and `delay()` for a pause
 * between a connection's requests); the summary comes back through wrk's `done()`. Latencies are in milliseconds.
 *
 * Every connection is opened first and sends its first request only after SETTLE_MS, and the numbers cover the
 * `seconds` after that. Without the pause, the connections opened in one burst were accepted while the first ones
 * already kept the server busy: some waited up to 1 s to be accepted, and that wait, counted as the latency of
 * their first request, made p99 jump between runs even against a bare Node http server (docs/PERFORMANCE.md, "Load
 * generator"). With a `delay()` (paced clients), each connection's first request also waits a random part of one
 * pause, so that the connections poll out of step, as independent clients do, not all in the same millisecond.
 */
export async function wrk(opts: {
  url: string;
  connections: number;
  seconds: number;
  script: string;
  threads?: number;
}): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'loket-wrk-'));
  const file = join(dir, 'load.lua');
  const threads = opts.threads ?? WRK_THREADS;
  writeFileSync(
    file,
    `${opts.script}
local paced = delay
local opened = 0
delay = function()
  opened = opened + 1
  if opened <= ${Math.ceil(opts.connections / threads)} then
    if paced then return ${SETTLE_MS} + math.floor(math.random() * paced()) end
    return ${SETTLE_MS}
  end
  if paced then return paced() end
  return 0
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK-RESULT {"requests":%d,"us":%d,"errors":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.status + e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`,
  );
  try {
    const run = await new Promise<{ stdout: string; stderr: string; error?: Error }>((resolve) => {
      const child = spawn(
        'wrk',
        [
          '-t',
          String(threads),
          '-c',
          String(opts.connections),
          '-d',
          `${opts.seconds + SETTLE_MS / 1000}s`, // whole seconds only
          '--timeout',
          '10s',
          '-s',
          file,
          opts.url,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('error', (error) => resolve({ stdout, stderr, error }));
      child.on('close', () => resolve({ stdout, stderr }));
    });
    if (run.error) throw new Error(`wrk could not run (apt-get install wrk): ${run.error.message}`);
    const line = /WRK-RESULT (\{.*\})/.exec(run.stdout)?.[1];
    if (!line) throw new Error(`wrk gave no result: ${run.stdout}${run.stderr}`);
    const r = JSON.parse(line) as Record<string, number>;
    const ms = (us: number | undefined) => Math.round((us ?? 0) / 100) / 10;
    return {
      rps: Math.round(((r.requests ?? 0) * 1e6) / Math.max(1, (r.us ?? 0) - SETTLE_MS * 1000)),
      requests: r.requests ?? 0,
      errors: r.errors ?? 0,
      p50: ms(r.p50),
      p90: ms(r.p90),
      p99: ms(r.p99),
      max: ms(r.max),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds process `pid` has used so far, in user and in kernel (system) mode (/proc/pid/stat). */
export function cpuSeconds(pid: number): { user: number; sys: number } {
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { user: Number(fields[11]) / CLOCK_TICKS, sys: Number(fields[12]) / CLOCK_TICKS };
}

/**
 * `wrk(opts)` while sampling the RSS of process `pid` every 250 ms: the result, the peak in MB, and the server's CPU
 * time per answer in microseconds (user and kernel), which depends less than latency on what else shares the cores.
 */
export async function wrkWithPeakRss(pid: number, opts: Parameters<typeof wrk>[0]) {
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 250);
  const before = cpuSeconds(pid);
  try {
    const result = await wrk(opts);
    const after = cpuSeconds(pid);
    const per = (s: number) => Math.round((s * 1e6) / Math.max(1, result.requests));
    return { result, peak, cpuUs: { user: per(after.user - before.user), sys: per(after.sys - before.sys) } };
  } finally {
    clearInterval(sampler);
  }
}

/** The server's CPU time per answer, as printed by the benches. */
export const describeCpu = (c: { user: number; sys: number }) =>
  `server CPU per answer ${c.user + c.sys} µs (user ${c.user}, kernel ${c.sys})`;

/** A Lua table literal of strings, for wrk scripts. */
export const luaStrings = (items: string[]) => `{${items.map((s) => JSON.stringify(s)).join(',')}}`;

export const describeLoad = (r: LoadResult) =>
  `${r.rps} req/s, p50 ${r.p50} ms, p90 ${r.p90} ms, p99 ${r.p99} ms, max ${r.max} ms, ${r.requests} requests, errors/non-2xx ${r.errors}`;

/** Creates the bench's admin account with `memberships` and logs it in: the bearer header for admin routes. */
export async function benchAdmin(
  app: Awaited<ReturnType<typeof buildApp>>,
  memberships: Record<string, number>,
): Promise<{ authorization: string }> {
  const password = 'bench-admin-password-1';
  await app.loket.identity.service.createAccount(
    { email: 'bench-admin@example.com', username: 'bench_admin', name: 'Bench', password, memberships },
    null,
    { requestId: 'bench', ip: null },
  );
  const login = await app.inject({
    method: 'POST',
    url: '/api/users/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ username: 'bench-admin@example.com', password }).toString(),
  });
  return { authorization: `Bearer ${login.json().access_token}` };
}
