// The README's worked examples, run as written: a fresh embedded start of `src/main.ts serve` (the bootstrap admin
// and demo data as the README starts it), then the section's bash blocks through bash, curl and jq, with only the
// address changed. A README example that was never run is wrong.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bashBlocks as readmeBlocks } from './helpers/docs.ts';
import { freePort } from './helpers/net.ts';

const ROOT = join(import.meta.dirname, '..');

const bashBlocks = (heading: string) => readmeBlocks('README.md', heading);

const servers: ChildProcess[] = [];
const dirs: string[] = [];

/** A fresh embedded start, as the README's first command makes one (no DATABASE_URL, no REDIS_URL). */
async function freshStart(): Promise<{ base: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'loket-readme-'));
  dirs.push(dir);
  const port = await freePort();
  const server = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      LOKET_DATA_DIR: dir,
      LOKET_DEMO: '1',
      LOKET_ADMIN_EMAIL: 'owner@example.com',
      LOKET_ADMIN_PASSWORD: 'change-me-please',
      LOG_LEVEL: 'info', // the start line says where it listens
      JOB_POLL_SECONDS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Loket did not start: ${out}`)), 90_000);
    server.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('Loket is listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.stderr?.on('data', (d) => {
      out += d;
    });
    server.once('exit', (code) => reject(new Error(`Loket exited with ${code}: ${out}`)));
  });
  return { base: `http://127.0.0.1:${port}`, dir };
}

afterAll(async () => {
  for (const server of servers) {
    if (server.exitCode !== null) continue;
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs README text through bash on a fresh start, its address replaced; stops at the first failure. */
async function run(script: string): Promise<string> {
  const { base, dir } = await freshStart();
  const res = spawnSync('bash', ['-euo', 'pipefail', '-c', script.replaceAll('http://127.0.0.1:8000', base)], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 100_000,
  });
  if (res.status !== 0) throw new Error(`bash exited with ${res.status}:\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

describe('README, billing', () => {
  it('customer → technical data → invoice → simulated payment → Lunas → the dashboard and the revenue report show it', async () => {
    const blocks = bashBlocks('## Billing module');
    const walkthrough = blocks.find((b) => b.includes('/_dev/payments/$REF/pay'));
    const reports = blocks.find((b) => b.includes('/api/dashboard/'));
    expect(walkthrough, 'the walkthrough block').toBeDefined();
    expect(reports, 'the dashboard block').toBeDefined();
    const out = await run(`${walkthrough}\n${reports}`);
    // The invoice as the README shows it after the simulator's payment.
    expect(out).toMatch(/"nomor_invoice": "INV-\d{4}-001"/);
    expect(out).toContain('"status_invoice": "Lunas"');
    expect(out).toContain('"total_harga": 222000');
    expect(out).toContain('"metode_pembayaran": "Xendit"');
    // The customer search, the dashboard's revenue and the report read the same payment.
    expect(out).toContain('"nama":"John Doe"');
    expect(out).toContain('"revenue_summary":{"total":222000');
    expect(out).toContain('"total_pendapatan":222000');
    expect(out).toContain('must not be before start_date');
  }, 180_000);

  it('routers: the demo simulator router, isolation by hand on it, janji-bayar, reconcile', async () => {
    const block = bashBlocks('## Billing module').find((b) => b.includes('/janji-bayar'));
    expect(block, 'the routers block').toBeDefined();
    const out = await run(block ?? '');
    expect(out).toContain('"ok":true');
    expect(out).toContain('{"nama":"Budi Santoso","status":"Isolir"}');
    expect(out).toMatch(/"profile":"ISOLIR"/);
    expect(out).toContain('{"nama":"Budi Santoso","status":"Aktif"}');
    expect(out).toMatch(/"status":"Aktif","janji_bayar_sampai":"\d{4}-\d{2}-\d{2}"/);
    expect(out).toContain('at most 14 days ahead');
    expect(out).toContain('{"checked":3,"missing":[],"unknown":[]}');
  }, 180_000);

  it('customers as CSV: dry run, import, the same file again, export and its re-import', async () => {
    const csv = bashBlocks('## Billing module').find((b) => b.includes('/api/pelanggan/import'));
    expect(csv, 'the CSV block').toBeDefined();
    const out = await run(csv ?? '');
    expect(out).toContain('"row":4');
    expect(out).toContain('{"created":2,"skipped":0,"invalid":1}');
    expect(out).toContain('{"created":0,"skipped":2,"invalid":1}');
    expect(out.toLowerCase()).toContain('x-total-count: 4');
    expect(out).toContain(
      'Rina Wati,3201010101010001,rina@example.com,081211110001,Internet 50Mbps,"Jl. Kenanga No. 1, Bogor",' +
        '2025-01-15,JAKINET,Perumahan Kenanga,C3,12',
    );
    expect(out).toContain('{"created":0,"skipped":4}');
  }, 180_000);

  it('the original frontend: sign-in alias, role, parallel refreshes, redirect, generate, mark-as-paid, log', async () => {
    const fe = bashBlocks('## Billing module').find((b) => b.includes('/api/auth/token'));
    expect(fe, 'the frontend block').toBeDefined();
    const out = await run(fe ?? '');
    expect(out).toContain('"role":"admin"');
    const successors = out.split('\n').filter((l) => l.startsWith('lkr_'));
    expect(successors).toHaveLength(3);
    expect(new Set(successors).size).toBe(1);
    expect(out.toLowerCase()).toContain('location: /api/harga_layanan/');
    expect(out).toContain('"total_harga":184815');
    expect(out).toContain('Lunas');
    expect(out).toContain('409');
    expect(out).toContain('POST /api/invoices/1/mark-as-paid');
    // A whole period for the demo customers, numbered on after INV-…-001; the same period again creates nothing.
    expect(out).toMatch(/\{"created":3,"skipped":0,"first":"INV-\d{4}-002","last":"INV-\d{4}-004"\}/);
    expect(out).toMatch(/\["already has INV-\d{4}-002","already has INV-\d{4}-003","already has INV-\d{4}-004"\]/);
  }, 180_000);

  it('notifications: a generated and a paid invoice in the unread list, marked read one and all', async () => {
    const block = bashBlocks('## Billing module').find((b) => b.includes('/api/notifications/unread'));
    expect(block, 'the notifications block').toBeDefined();
    const out = await run(block ?? '');
    expect(out).toMatch(
      /\{"count":2,"types":\["new_payment","new_invoice"\],"paid":\{"invoice_number":"INV-\d{4}-001","pelanggan_nama":"Budi Santoso"\}\}/,
    );
    expect(out).toContain('{"type":"new_payment","read":true}');
    expect(out).toContain('{"message":"1 notifications marked as read","count":1}');
  }, 180_000);
});

describe('README, PPOB', () => {
  it('register → OTP → API key → deposit paid by the simulator → /beli → sukses', async () => {
    const block = bashBlocks('## PPOB module').find((b) => b.includes('/beli'));
    expect(block, 'the PPOB block').toBeDefined();
    const out = await run(block ?? '');
    expect(out).toContain('"message":"Registrasi sukses. OTP telah dikirim ke email Anda."');
    expect(out).toContain('{"saldo":50000,"nama":"Rama"}');
    expect(out).toContain('{"status":"sukses","kode_produk":"PLS10","nominal":12000,"sisa_saldo":38000}');
  }, 180_000);
});

describe('README, staff', () => {
  it('a position, a staff member, a partial update, and the OTP flow', async () => {
    const block = bashBlocks('## Staff module').find((b) => b.includes('/otp/verify'));
    expect(block, 'the staff block').toBeDefined();
    const out = await run(block ?? '');
    expect(out).toContain('{"nama":"John Doe","alamat":"Jl. Contoh Baru No. 456","telepon":"081234567890"}');
    expect(out).toContain('{"message":"OTP berhasil diverifikasi."}');
  }, 180_000);
});

describe('README, IM3', () => {
  it('register → sign in → phone → operator OTP → purchase → QR → paid → COMPLETED', async () => {
    const block = bashBlocks('## IM3 module').find((b) => b.includes('/api/im3/verify-otp'));
    expect(block, 'the IM3 block').toBeDefined();
    const out = (await run(block ?? '')).trim().split('\n');
    expect(out).toEqual([
      '6281234567890',
      '{"verified":true,"phone_number":"6281234567890","message":"OTP verified"}',
      'PAYMENT_INITIATED',
      'COMPLETED',
    ]);
  }, 180_000);
});

describe('README, photobox', () => {
  it('location → kiosk key → transaction → paid by the simulator → photos → the gallery', async () => {
    const block = bashBlocks('## Photobox module').find((b) => b.includes('/photos'));
    expect(block, 'the photobox block').toBeDefined();
    const out = (await run(block ?? '')).trim().split('\n');
    expect(out).toEqual(['PENDING', 'COMPLETED', 'Photos uploaded successfully', '1']);
  }, 180_000);
});
