// The README as a new user meets it: every `bash` block, in document order, pasted into ONE bash session (variables
// carry from block to block) against ONE fresh embedded start of `src/main.ts serve` made as "Two commands" makes it
// (a new data directory, so demo data; rate limits on), with only the address changed. Each block's `# …` lines are
// checked by what a user would notice. A block that cannot run here is listed in NOT_RUN with the reason, and a
// block that is in neither table fails the test, so a new example cannot be forgotten. A README example that was
// never run is wrong.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allBashBlocks, type BlockKey, type DocBlock, pairBlocks } from './helpers/docs.ts';
import { freePort } from './helpers/net.ts';

const ROOT = join(import.meta.dirname, '..');

/** Blocks that are not run, and why. */
const NOT_RUN: (BlockKey & { why: string })[] = [
  {
    heading: '## Two commands',
    has: 'npm install && npm start',
    why: 'installs, and starts the server this test starts the same way; `npm test` is the suite this test is in',
  },
  {
    heading: '## Running on PostgreSQL and Redis',
    has: 'createdb',
    why: 'needs a PostgreSQL and a Redis server, and production settings with real providers',
  },
  {
    heading: '## Command line',
    has: 'npm run loket -- serve',
    why: 'a list of every command: servers, rewritten files, a move to PostgreSQL; each is tested on its own',
  },
  { heading: '## Tests', has: 'npm test', why: 'runs the whole suite, this test included' },
];

/** The blocks that run, each with what a user would notice in its answers (`out`: its stdout and stderr). */
const RUN: (BlockKey & { what: string; check: (out: string) => void })[] = [
  {
    heading: '## Two commands',
    has: '/health',
    what: 'health, readiness, metrics, the OpenAPI document, /redoc',
    check: (out) => {
      expect(out).toMatch(/\{"status":"ok","uptime_s":\d+\}/);
      expect(out).toContain('"openapi"');
      expect(out).toContain('/openapi.json');
    },
  },
  {
    heading: '## Accounts, tokens and the admin API',
    has: 'admin create',
    what: 'a platform admin from the shell, sign-in, an account made, the activity log',
    check: (out) => {
      expect(out).toContain('{"email":"owner@example.com","memberships":{"platform":100}}');
      expect(out).toContain('{"email":"kasir@example.com","memberships":{"photobox":10}}');
      expect(out).toContain('{"action":"POST /api/admin/accounts","event":"account.created"}');
    },
  },
  {
    heading: '## PPOB module',
    has: '/beli',
    what: 'register → OTP → API key → deposit (its QR as an image) paid by the simulator → /beli → sukses',
    check: (out) => {
      expect(out).toContain('"message":"Registrasi sukses. OTP telah dikirim ke email Anda."');
      expect(out).toContain('image/png');
      expect(out).toContain('{"saldo":50000,"nama":"Rama"}');
      expect(out).toContain('{"status":"sukses","kode_produk":"PLS10","nominal":12000,"sisa_saldo":38000}');
    },
  },
  {
    heading: '## PPOB module',
    has: '+62 813-5555-0101',
    what: 'a `+62 …` number stored as `08…`; /cek-produk by the numeric id',
    check: (out) => {
      expect(out).toContain('Registrasi sukses. OTP telah dikirim ke email Anda.');
      expect(out).toContain('{"nama":"Sari","hp":"081355550101"}');
      expect(out).toMatch(/\{"id":\d+,"kode_produk":"PLS10"\}/);
    },
  },
  {
    heading: '## Photobox module',
    has: '/photos',
    what: 'location → kiosk key → transaction → paid by the simulator → photos → the gallery',
    check: (out) =>
      expect(out.trim().split('\n')).toEqual(['PENDING', 'COMPLETED', 'Photos uploaded successfully', '1']),
  },
  {
    heading: '## Staff module',
    has: '/otp/verify',
    what: 'a position, a staff member, a partial update, the OTP flow',
    check: (out) => {
      expect(out).toContain('{"nama":"John Doe","alamat":"Jl. Contoh Baru No. 456","telepon":"081234567890"}');
      expect(out).toContain('{"message":"OTP berhasil diverifikasi."}');
    },
  },
  {
    heading: '## Staff module',
    has: '.alamat = null',
    what: 'a GET sent back as a PUT, alamat cleared',
    check: (out) =>
      expect(out).toMatch(
        /\{"id_user":\d+,"nama":"John Doe","alamat":null,"telepon":"081234567890","id_jabatan":\d+\}/,
      ),
  },
  {
    heading: '## Billing module',
    has: '/_dev/payments/$REF/pay',
    what: 'customer → technical data → invoice → simulated payment → Lunas',
    check: (out) => {
      expect(out).toContain('"nama":"John Doe"');
      expect(out).toContain('"no_telp":"081234567890"');
      expect(out).toContain('"total_count":1');
      expect(out).toMatch(
        /\{"nomor_invoice":"INV-\d{4}-001","status_invoice":"Lunas","total_harga":222000,"metode_pembayaran":"Xendit"\}/,
      );
    },
  },
  {
    heading: '## Billing module',
    has: 'billing seed',
    what: 'the generator on a new data directory, then refused on the one that has customers (one line, exit 1)',
    check: (out) => {
      expect(out).toMatch(/seeded 200 customers, \d+ invoices, \d+ journals in [\d.]+ s/);
      expect(out).toMatch(/^CONFLICT: the billing base is not empty \(\d+ customers, \d+ invoices\)/m);
      expect(out).not.toContain('Loket failed');
      expect(out).not.toMatch(/^\s+at /m);
      expect(out).toContain('exit 1');
    },
  },
  {
    heading: '## Billing module',
    has: 'FEB=$(',
    what: 'a new payment link, then cash once; a second time is 409',
    check: (out) => {
      expect(out).toMatch(/\{"payment_reference":"INV-\d{4}-002-\w+","payment_link_status":"Belum Dibayar"\}/);
      expect(out).toMatch(/\{"nomor_invoice":"INV-\d{4}-002","status_invoice":"Lunas","metode_pembayaran":"Tunai"\}/);
      expect(out).toMatch(/"detail":"Invoice INV-\d{4}-002 is already Lunas".*"error_code":"CONFLICT"/);
    },
  },
  {
    heading: '## Billing module',
    has: '/api/dashboard/',
    what: 'the dashboard and the revenue report read both payments',
    check: (out) => {
      expect(out).toContain('"revenue_summary":{"total":444000');
      expect(out).toContain('"outstanding":0');
      expect(out).toContain('"total_pendapatan":444000,"total_invoices":2');
      expect(out).toMatch(/"invoice_number":"INV-\d{4}-002","pelanggan_nama":"John Doe","metode_pembayaran":"Tunai"/);
      expect(out).toMatch(/"invoice_number":"INV-\d{4}-001","pelanggan_nama":"John Doe","metode_pembayaran":"Xendit"/);
      expect(out).toContain('must not be before start_date');
    },
  },
  {
    heading: '## Billing module',
    has: '/api/pelanggan/import',
    what: 'customers as CSV: dry run, import, the same file again, export and its re-import',
    check: (out) => {
      expect(out).toContain('"row":4');
      expect(out).toContain('{"created":2,"skipped":0,"invalid":1}');
      expect(out).toContain('{"created":0,"skipped":2,"invalid":1}');
      expect(out.toLowerCase()).toContain('x-total-count: 5');
      // The original's last three columns survive the export.
      expect(out).toContain(
        'Rina Wati,3201010101010001,rina@example.com,081211110001,Internet 50Mbps,"Jl. Kenanga No. 1, Bogor",' +
          '2025-01-15,JAKINET,Perumahan Kenanga,C3,12',
      );
      expect(out).toContain('{"created":0,"skipped":5}');
    },
  },
  {
    heading: '### Routers, isolation and promises to pay',
    has: '/janji-bayar',
    what: 'the demo simulator router, isolation by hand on it, janji-bayar, reconcile',
    check: (out) => {
      expect(out).toContain('{"ok":true,"identity":"simulator-1"');
      expect(out).toContain('{"total":1,"online":1}');
      expect(out).toContain('{"nama":"Budi Santoso","status":"Isolir"}');
      expect(out).toMatch(/"profile":"ISOLIR"/);
      expect(out).toContain('{"nama":"Budi Santoso","status":"Aktif"}');
      expect(out).toMatch(/"status":"Aktif","janji_bayar_sampai":"\d{4}-\d{2}-\d{2}"/);
      expect(out).toContain('at most 14 days ahead');
      expect(out).toContain('{"checked":3,"missing":[],"unknown":[]}');
    },
  },
  {
    heading: '### The original frontend',
    has: '/api/auth/token',
    what: 'sign-in alias, role, parallel refreshes, redirect, generate, mark-as-paid, log, a whole period',
    check: (out) => {
      expect(out).toContain('{"name":"Owner","role":"admin"}');
      const successors = out.split('\n').filter((l) => l.startsWith('lkr_'));
      expect(successors).toHaveLength(3);
      expect(new Set(successors).size).toBe(1);
      expect(out.toLowerCase()).toContain('location: /api/harga_layanan/');
      expect(out).toMatch(/\[\{"id":(\d+),"nomor_invoice":"INV-\d{4}-003","pelanggan_id":\d+,"total_harga":184815\}\]/);
      // The same customer's generate again is refused in the original's words.
      expect(out).toMatch(
        /\{"detail":"Invoice untuk periode ini \(\d{4}-\d{2}\) sudah ada\.","status":"error","error_code":"CONFLICT"\}/,
      );
      expect(out).toContain('Lunas');
      expect(out).toContain('409');
      const id = out.match(/\[\{"id":(\d+),"nomor_invoice"/)?.[1];
      expect(out).toContain(`["POST /api/invoices/${id}/mark-as-paid","POST /api/invoices/generate"]`);
      // A whole period for every active customer, numbered on; John Doe already has his; then nothing twice.
      expect(out).toMatch(
        /\{"created":5,"skipped":\["already has INV-(\d{4})-001"\],"first":"INV-\1-004","last":"INV-\1-008"\}/,
      );
      expect(out).toContain('{"created":0,"skipped":6}');
    },
  },
  {
    heading: '### Notifications',
    has: '/api/notifications/unread',
    what: 'a generated and a paid invoice in the unread list, marked read one and all',
    check: (out) => {
      expect(out).toMatch(
        /\{"count":2,"types":\["new_payment","new_invoice"\],"paid":\{"invoice_number":"INV-\d{4}-009","pelanggan_nama":"Siti Aminah"\}\}/,
      );
      expect(out).toContain('{"type":"new_payment","read":true}');
      expect(out).toContain('{"message":"1 notifications marked as read","count":1}');
    },
  },
  {
    heading: '## IM3 module',
    has: '/api/im3/verify-otp',
    what: 'register → sign in → phone → operator OTP → purchase → QR → paid → COMPLETED',
    check: (out) =>
      expect(out.trim().split('\n')).toEqual([
        '6281234567890',
        '{"verified":true,"phone_number":"6281234567890","message":"OTP verified"}',
        'PAYMENT_INITIATED',
        'COMPLETED',
      ]),
  },
  {
    heading: '## Configuration',
    has: 'CORS_ORIGINS=https://admin.example.com npm start',
    what: 'the server started again with CORS_ORIGINS on the same data; a preflight',
    check: (out) => {
      expect(out).toMatch(/^HTTP\/1.1 204/);
      expect(out.toLowerCase()).toContain('access-control-allow-origin: https://admin.example.com');
      expect(out.toLowerCase()).toContain('access-control-allow-methods: get, head, post, put, patch, delete, options');
      expect(out.toLowerCase()).toContain('access-control-allow-headers: authorization, content-type');
    },
  },
];

/** A block's first line `[NAME=value …] npm start`: the test (re)starts the server with those settings. */
const START = /^((?:[A-Z_]+=\S+\s+)*)npm start\b.*$/;

// The user's working directory is the checkout (`npm run loket` needs it): a scratch directory inside it (`tmp/` is
// ignored by git) stands in for it, so the files the blocks write (qr.png, pelanggan.csv, …) land there.
mkdirSync(join(ROOT, 'tmp'), { recursive: true });
const scratch = mkdtempSync(join(ROOT, 'tmp', 'readme-'));
const dataDir = join(scratch, 'data');
let server: ChildProcess | undefined;
let base = '';

/** `src/main.ts serve` on the test's data directory, as `npm start` runs it, with `settings` added. */
async function start(settings: Record<string, string>): Promise<void> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), LOKET_DATA_DIR: dataDir, LOG_LEVEL: 'info', ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = proc;
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Loket did not start: ${out}`)), 90_000);
    proc.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('Loket is listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.stderr?.on('data', (d) => {
      out += d;
    });
    proc.once('exit', (code) => reject(new Error(`Loket exited with ${code}: ${out}`)));
  });
  base = `http://127.0.0.1:${port}`;
}

async function stop(): Promise<void> {
  const proc = server;
  server = undefined;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

/**
 * One bash process fed block after block, as a user pastes them: `-euo pipefail` so that a failing command or an
 * unset variable ends the session at the block that has it. Each block is sourced from a file with stdin from
 * /dev/null (a command reading its input reads nothing, as in a terminal where the user pasted one block).
 */
class Shell {
  private readonly bash: ChildProcess;
  private stdout = '';
  private stderr = '';
  private exit: string | undefined;
  private wake: (() => void) | undefined;
  private count = 0;

  constructor(cwd: string, env: Record<string, string>) {
    this.bash = spawn('bash', ['--noprofile', '--norc', '-euo', 'pipefail'], {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.bash.stdout?.on('data', (d) => {
      this.stdout += d;
      this.wake?.();
    });
    this.bash.stderr?.on('data', (d) => {
      this.stderr += d;
      this.wake?.();
    });
    this.bash.once('exit', (code, signal) => {
      this.exit = `bash exited (${code ?? signal})`;
      this.wake?.();
    });
  }

  /** Runs `text` in the session; its stdout and stderr. Throws when the session ends or the block takes too long. */
  async run(text: string, timeoutMs: number): Promise<string> {
    const n = ++this.count;
    const file = join(scratch, `block-${n}.sh`);
    writeFileSync(file, text);
    const mark = `@@block ${n} done@@`;
    const from = { out: this.stdout.length, err: this.stderr.length };
    this.bash.stdin?.write(`source ${JSON.stringify(file)} < /dev/null; echo '${mark}'; echo '${mark}' >&2\n`);
    const deadline = Date.now() + timeoutMs;
    while (!(this.stdout.includes(mark, from.out) && this.stderr.includes(mark, from.err))) {
      const output = `${this.stdout.slice(from.out)}\n${this.stderr.slice(from.err)}`;
      if (this.exit) throw new Error(`${this.exit} in this block:\n${text}\noutput:\n${output}`);
      if (Date.now() > deadline) throw new Error(`this block took over ${timeoutMs} ms:\n${text}\noutput:\n${output}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 250);
      });
    }
    const out = this.stdout.slice(from.out, this.stdout.indexOf(mark, from.out));
    const err = this.stderr.slice(from.err, this.stderr.indexOf(mark, from.err));
    return `${out}${err}`;
  }

  close() {
    this.bash.stdin?.end();
    if (this.exit === undefined) this.bash.kill('SIGKILL');
  }
}

const blocks = allBashBlocks('README.md');
const { pairs, problems } = pairBlocks('README.md', blocks, [...RUN, ...NOT_RUN]);
const outputs = new Map<DocBlock, string>();
let failure: Error | undefined;
let shell: Shell | undefined;

beforeAll(async () => {
  if (problems.length > 0) return;
  mkdirSync(dataDir);
  await start({});
  shell = new Shell(scratch, {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? scratch,
    LOKET_DATA_DIR: dataDir,
  });
  try {
    for (const { block, key } of pairs) {
      if (NOT_RUN.includes(key as (typeof NOT_RUN)[number])) continue;
      let text = block.text;
      const first = text.split('\n')[0] ?? '';
      const restart = first.match(START);
      if (restart) {
        // The user stops the server and starts it again with these settings on the same data.
        const settings = Object.fromEntries(
          [...(restart[1] ?? '').matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]),
        );
        await stop();
        await start(settings);
        text = text.slice(first.length + 1);
      }
      text = text.replaceAll('http://127.0.0.1:8000', base).replaceAll('/tmp/loket-demo', join(scratch, 'loket-demo'));
      outputs.set(block, await shell.run(text, 240_000));
    }
  } catch (err) {
    failure = err as Error;
  } finally {
    // What the user would have seen, block by block, for a failing check (test-results/ is kept by CI).
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    writeFileSync(
      join(ROOT, 'test-results', 'readme-transcript.txt'),
      [...outputs].map(([b, out]) => `=== README.md:${b.line} ${b.heading}\n${b.text}--- output\n${out}`).join('\n'),
    );
  }
}, 900_000);

afterAll(async () => {
  shell?.close();
  await stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('README.md, pasted in order into one shell against one server', () => {
  it('every bash block is run or listed with a reason', () => {
    expect(problems).toEqual([]);
  });

  for (const entry of RUN) {
    it(`${entry.heading.replace(/^#+ /, '')}: ${entry.what}`, () => {
      const pair = pairs.find((p) => p.key === entry);
      expect(pair, 'its block').toBeDefined();
      const out = pair && outputs.get(pair.block);
      if (out === undefined) throw failure ?? new Error('not run: an earlier block failed');
      entry.check(out);
    });
  }
});
