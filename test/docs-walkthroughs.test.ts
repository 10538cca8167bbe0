// The walkthroughs in docs/ run as written, like the README's (test/readme.test.ts): a fresh embedded start of the
// server as the README starts it, then each `bash` block of the walkthrough through bash from the checkout, with
// only the data directory and the backup file's path made this test's own. Every `bash` block of docs/*.md is either
// run here or listed in NOT_RUN with the reason, and a block in neither fails the test.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { drain } from './helpers/child.ts';
import { allBashBlocks, type BlockKey, bashBlocks, pairBlocks } from './helpers/docs.ts';
import { freePort } from './helpers/net.ts';

const ROOT = join(import.meta.dirname, '..');

/** The blocks of docs/ this file runs. */
const RUN: (BlockKey & { file: string })[] = [
  {
    file: 'docs/OPERATIONS.md',
    heading: '### Try it: a backup while the server runs',
    has: 'backup /tmp/loket-backup.sql',
  },
];

/** The blocks of docs/ that are not run, and why. */
const NOT_RUN: (BlockKey & { file: string; why: string })[] = [
  {
    file: 'docs/PERFORMANCE.md',
    heading: '## Start-up and idle memory',
    has: 'createdb -h 127.0.0.1 -U postgres loket_bench',
    why: 'a measurement by hand on PostgreSQL: a server started, its memory read from /proc',
  },
  ...[
    ['## Credential checks', 'npm run bench:auth'],
    ['## Webhook intake', 'npm run bench:webhook'],
    ['## PPOB under load', 'npm run bench:ppob'],
    ['## Photobox polling', 'npm run bench:photobox'],
    ['## Billing on a generated base', 'npm run bench:billing'],
    ['## RouterOS client', 'npm run bench:routeros'],
    ['## Isolation engine at 10,000 customers', 'npm run bench:billing-isolation    # needs PostgreSQL'],
    ['### Paid by Xendit', 'BENCH_TRANSPORT=api   npm run bench:billing-isolation'],
  ].map(([heading, has]) => ({
    file: 'docs/PERFORMANCE.md',
    heading: heading as string,
    has: has as string,
    why: 'a measurement: minutes of load on PostgreSQL (and wrk, pgbench), its numbers written down in the page',
  })),
];

describe('docs/*.md', () => {
  it('every bash block of a walkthrough is run or listed with a reason', () => {
    const docs = readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`);
    const problems = docs.flatMap((file) => {
      const keys = [...RUN, ...NOT_RUN].filter((k) => k.file === file);
      return pairBlocks(file, allBashBlocks(file), keys).problems;
    });
    for (const key of [...RUN, ...NOT_RUN]) {
      if (!docs.includes(key.file)) problems.push(`${key.file} does not exist`);
    }
    expect(problems).toEqual([]);
  });
});

const dir = mkdtempSync(join(tmpdir(), 'loket-walkthrough-'));
const servers: ChildProcess[] = [];
afterAll(() => {
  for (const s of servers) if (s.exitCode === null) s.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('docs/OPERATIONS.md', () => {
  it('a backup while the server runs, a refused restore, the server stopped, the restore, doctor', async () => {
    const [block] = bashBlocks('docs/OPERATIONS.md', '### Try it: a backup while the server runs, then a restore');
    expect(block, 'the walkthrough block').toBeDefined();
    const data = join(dir, 'data');
    const env = { PATH: process.env.PATH ?? '', LOKET_DATA_DIR: data, LOG_LEVEL: 'warn' };
    const port = await freePort();
    const server = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/main.ts', 'serve'], {
      cwd: ROOT,
      env: { ...env, PORT: String(port), LOKET_DEMO: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    servers.push(server);
    const output = drain(server);
    const deadline = Date.now() + 120_000;
    while (
      !(await fetch(`http://127.0.0.1:${port}/ready`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error(`no start: ${output.tail()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const backup = join(dir, 'loket-backup.sql');
    const res = spawnSync(
      'bash',
      ['-euo', 'pipefail', '-c', (block as string).replaceAll('/tmp/loket-backup.sql', backup)],
      {
        cwd: ROOT,
        env,
        encoding: 'utf8',
        timeout: 300_000,
      },
    );
    expect(res.status, `${res.stdout}\n${res.stderr}\nserver: ${output.tail()}`).toBe(0);
    expect(res.stdout).toContain(`backup written to ${backup}`);
    expect(res.stderr).toContain(`in use by a running Loket server (pid ${server.pid}`);
    expect(res.stdout).toMatch(/restored .* \d+ tables, \d+ migrations recorded/);
    expect(res.stdout).toMatch(/ok +migrations +all \d+ applied/);
    // The walkthrough stopped the server with SIGTERM, and it let go of the directory cleanly (its exit is seen
    // once this process's event loop runs again after spawnSync).
    if (server.exitCode === null && server.signalCode === null) await new Promise((r) => server.once('exit', r));
    expect(server.exitCode).toBe(0);
    expect(existsSync(join(data, 'loket.lock'))).toBe(false);
    expect(existsSync(join(data, 'pg.before-restore'))).toBe(true);
  }, 400_000);
});
