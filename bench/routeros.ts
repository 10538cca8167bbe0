// Throughput of our RouterOS client against the fake RouterOS (test/fakes/routeros.ts) run in its own process, so
// the router's work does not share this process's event loop: N PPPoE secrets added, printed one by one by name
// and set (a new profile), each way once with one command after another (await each answer) and once pipelined
// (every command written at once with its own `.tag` on ONE socket, answers matched by tag); then one print of all
// N secrets (what a reconcile reads), and the REST transport for comparison (HTTP/1.1: no pipelining, 4 sockets).
// Twice: on loopback, and with the fake answering each command BENCH_LATENCY_MS later, as a router across an ISP's
// network does (one command after another is then bound by the round trip, so it runs on a sample of 500).
//
// Run: npm run bench:routeros          Env: BENCH_SECRETS (10000), BENCH_LATENCY_MS (5)
import { spawn } from 'node:child_process';
import { apiTransport } from '../src/modules/billing/providers/routeros/api.ts';
import { clientOver } from '../src/modules/billing/providers/routeros/commands.ts';
import { closeRouterConnections, type RouterTarget } from '../src/modules/billing/providers/routeros/index.ts';
import { restTransport } from '../src/modules/billing/providers/routeros/rest.ts';
import { startFakeRest, startFakeRouter } from '../test/fakes/routeros.ts';

const N = Number(process.env.BENCH_SECRETS ?? 10_000);
const PASSWORD = 'bench-router';
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 5);
const SAMPLE = Math.min(N, 500);

if (process.argv[2] === 'fake') {
  // The router's side: both fakes on one engine, their ports on stdout.
  const api = await startFakeRouter({ password: PASSWORD });
  const rest = await startFakeRest({ password: PASSWORD, engine: api.engine });
  process.stdout.write(`${JSON.stringify({ api: api.port, rest: rest.port })}\n`);
  // `delay <ms>` lines on stdin set the router's answer delay.
  process.stdin.on('data', (b: Buffer) => {
    const ms = Number(/delay (\d+)/.exec(b.toString())?.[1] ?? 0);
    api.options.delayMs = ms;
    rest.options.delayMs = ms;
    process.stdout.write('ok\n');
  });
  process.stdin.on('end', () => process.exit(0));
} else {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', import.meta.filename, 'fake'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ports = await new Promise<{ api: number; rest: number }>((resolve) => {
    child.stdout.once('data', (b: Buffer) => resolve(JSON.parse(b.toString())));
  });
  const target = (key: string, over: Partial<RouterTarget> = {}): RouterTarget => ({
    key,
    host: '127.0.0.1',
    port: ports.api,
    transport: 'api',
    tls: false,
    username: 'admin',
    password: PASSWORD,
    timeoutMs: 60_000,
    ...over,
  });
  const rows: string[][] = [];
  const measure = async (what: string, mode: string, count: number, run: () => Promise<unknown>) => {
    const start = performance.now();
    await run();
    const ms = performance.now() - start;
    rows.push([what, mode, String(count), `${(ms / 1000).toFixed(2)} s`, `${Math.round((count / ms) * 1000)}/s`]);
  };
  const setDelay = (ms: number) =>
    new Promise<void>((resolve) => {
      child.stdout.once('data', () => resolve());
      child.stdin.write(`delay ${ms}\n`);
    });
  const names = Array.from({ length: N }, (_, i) => `bench-${i}`);
  const oneByOne = async (count: number, f: (name: string) => Promise<unknown>) => {
    for (const name of names.slice(0, count)) await f(name);
  };
  const allAtOnce = (f: (name: string) => Promise<unknown>) => Promise.all(names.map(f));

  // One socket each: maxConnections 1, so "pipelined" is many tags on one connection.
  const piped = clientOver(apiTransport(target('piped'), { maxConnections: 1 }));
  const serial = clientOver(apiTransport(target('serial'), { maxConnections: 1 }));
  const rest = clientOver(restTransport(target('rest', { transport: 'rest', port: ports.rest })));
  await serial.identity();
  await piped.identity();
  const ids = new Map<string, string>();
  await measure('add secret', 'pipelined', N, () =>
    allAtOnce(async (name) => ids.set(name, await piped.addSecret({ name, password: 'x', profile: 'paket-10M' }))),
  );
  const id = (name: string) => ids.get(name) ?? '';

  for (const latency of [0, LATENCY_MS]) {
    await setDelay(latency);
    const at = latency === 0 ? 'loopback' : `+${latency} ms`;
    const serialCount = latency === 0 ? N : SAMPLE;
    await measure(`print secret by name, ${at}`, 'one at a time', serialCount, () =>
      oneByOne(serialCount, (name) => serial.secrets({ name })),
    );
    await measure(`print secret by name, ${at}`, 'pipelined', N, () => allAtOnce((name) => piped.secrets({ name })));
    await measure(`set profile, ${at}`, 'one at a time', serialCount, () =>
      oneByOne(serialCount, (name) => serial.setSecret(id(name), { profile: 'ISOLIR' })),
    );
    await measure(`set profile, ${at}`, 'pipelined', N, () =>
      allAtOnce((name) => piped.setSecret(id(name), { profile: 'paket-20M' })),
    );
    await measure(`print all ${N} secrets, ${at}`, 'one command', N, async () => {
      const all = await piped.secrets();
      if (all.length !== N) throw new Error(`expected ${N} secrets, got ${all.length}`);
    });
    await measure(`set profile (REST), ${at}`, 'one at a time', serialCount, () =>
      oneByOne(serialCount, (name) => rest.setSecret(id(name), { profile: 'ISOLIR' })),
    );
    await measure(`set profile (REST), ${at}`, '4 sockets', N, () =>
      allAtOnce((name) => rest.setSecret(id(name), { profile: 'paket-10M' })),
    );
  }

  closeRouterConnections();
  child.stdin.end();
  console.log(`| operation | how | commands | time | rate |\n|---|---|---|---|---|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}
