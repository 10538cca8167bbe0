// Small helpers for the photobox tests: images by their magic bytes, multipart bodies, and paying a transaction
// through the simulator (which posts Xendit's own callback to the real webhook route).
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { TestApp } from './app.ts';

export const jpeg = (size = 2048) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(size)]);
export const png = (size = 2048) =>
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(size)]);

export interface FormPart {
  name: string;
  value?: string;
  filename?: string;
  contentType?: string;
  data?: Buffer;
}

/** A multipart/form-data body for `inject`. */
export function multipart(parts: FormPart[]) {
  const boundary = `----loket${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = p.filename
      ? `form-data; name="${p.name}"; filename="${p.filename}"`
      : `form-data; name="${p.name}"`;
    const head = [`--${boundary}`, `Content-Disposition: ${disposition}`];
    if (p.filename) head.push(`Content-Type: ${p.contentType ?? 'application/octet-stream'}`);
    chunks.push(Buffer.from(`${head.join('\r\n')}\r\n\r\n`));
    chunks.push(p.data ?? Buffer.from(p.value ?? ''));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export const files = (...images: Buffer[]): FormPart[] =>
  images.map((data, i) => ({
    name: 'files',
    filename: `photo-${i + 1}.${data[0] === 0x89 ? 'png' : 'jpg'}`,
    contentType: 'image/jpeg',
    data,
  }));

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Turns a polling answer's JSON body (encrypted or plain) into the plain envelope. */
export type Opener = (body: { data: unknown }) => unknown;

/** The polling answer's `data`; `open` turns an encrypted body back into the plain one. */
export async function statusOf(
  t: TestApp,
  externalId: string,
  open: Opener = (b) => b,
): Promise<Record<string, unknown>> {
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/transactions/external/${externalId}` });
  expect(res.statusCode, res.body).toBe(200);
  return (open(res.json()) as { data: Record<string, unknown> }).data;
}

/** Pays through the simulator (Xendit's callback goes through the real webhook) and waits for COMPLETED. */
export async function pay(t: TestApp, externalId: string, open?: Opener) {
  const res = await t.app.inject({ method: 'POST', url: `/_dev/payments/${externalId}/pay` });
  expect(res.statusCode, res.body).toBe(200);
  return waitFor('COMPLETED', async () => {
    const s = await statusOf(t, externalId, open);
    return s.tr_status === 'COMPLETED' ? s : undefined;
  });
}
