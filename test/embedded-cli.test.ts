// The embedded database belongs to one process: a server holds its data directory with a lock file; CLI commands
// run while it serves go through its control socket (nothing lost, no crash); a second server refuses with the pid;
// a stale lock (dead process) is taken over.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { drain } from './helpers/child.ts';
import { freePort } from './helpers/net.ts';

const NODE = process.execPath;
const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'loket-embedded-cli-'));
const children: ChildProcess[] = [];

function run(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((ok) => {
    const child = spawn(NODE, ['--disable-warning=ExperimentalWarning', MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', LOKET_DEMO: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c) => (stdout += c));
    child.stderr?.on('data', (c) => (stderr += c));
    child.on('exit', (code) => ok({ code, stdout, stderr }));
  });
}

async function serve(env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(NODE, ['--disable-warning=ExperimentalWarning', MAIN, 'serve'], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', LOKET_DEMO: '0', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  drain(child);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('server did not start');
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded database shared by a server and the CLI', () => {
  const env = { LOKET_DATA_DIR: join(dir, 'data'), LOKET_MODULES: 'ppob', LOKET_RATE_LIMITS: 'off' };

  it('a stale lock (its process is gone) is taken over', async () => {
    const dead = spawn(NODE, ['-e', '']);
    await new Promise((r) => dead.on('exit', r));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(env.LOKET_DATA_DIR, { recursive: true });
    writeFileSync(
      join(env.LOKET_DATA_DIR, 'loket.lock'),
      JSON.stringify({ pid: dead.pid, started_at: 'x', role: 'serve' }),
    );
    const migrated = await run(['migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
  }, 90_000);

  it('two CLI commands go through the running server: both accounts exist, the server keeps serving', async () => {
    const port = await freePort();
    const server = await serve(env, port);
    const [a, b] = await Promise.all([
      run(['admin', 'create', '--email', 'satu@example.com', '--password', 'Rahasia-satu-123'], env),
      run(['admin', 'create', '--email', 'dua@example.com', '--password', 'Rahasia-dua-123'], env),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const seeded = await run(['demo', 'seed'], env);
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(server.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    const list = await run(['admin', 'list'], env);
    expect(list.stdout).toContain('satu@example.com');
    expect(list.stdout).toContain('dua@example.com');
    // A refusal through the server reads as it does without one: one line with its code, no stack, exit 1.
    const again = await run(['admin', 'create', '--email', 'satu@example.com', '--password', 'Rahasia-satu-123'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^CONFLICT: [^\n]+\n$/);

    // A second server on the same directory refuses, naming the first one's pid.
    const second = await run(['serve'], { ...env, PORT: String(await freePort()) });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`pid ${server.pid}`);
    expect(server.exitCode).toBeNull();

    server.kill('SIGTERM');
    await new Promise((r) => server.on('exit', r));
    // After the server stopped, the accounts are still there (read by the CLI opening the directory itself).
    const after = await run(['admin', 'list'], env);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain('dua@example.com');
  }, 180_000);
});
