// API keys: `lk_` + 24 base64url characters (144 random bits) + 6 checksum characters. The checksum lets a
// mistyped or guessed key be refused before any lookup. Only the SHA-256 of a key is stored, with a short
// display prefix; the key itself is shown once.
import { hash, randomBytes } from 'node:crypto';

const KEY_RE = /^lk_([A-Za-z0-9_-]{24})([A-Za-z0-9_-]{6})$/;

const checksum = (body: string) => hash('sha256', `loket-api-key:${body}`, 'base64url').slice(0, 6);

export function newApiKey(): { key: string; hash: string; displayPrefix: string } {
  const body = randomBytes(18).toString('base64url');
  const key = `lk_${body}${checksum(body)}`;
  return { key, hash: hashApiKey(key), displayPrefix: key.slice(0, 10) };
}

export const hashApiKey = (key: string): string => hash('sha256', key, 'hex');

/** True when the string has the shape and checksum of a Loket API key (says nothing about whether it exists). */
export function isWellFormedApiKey(key: string): boolean {
  const m = KEY_RE.exec(key);
  return m !== null && checksum(m[1] as string) === m[2];
}

/** The companion private key, used to sign outgoing webhooks: 256 random bits. */
export const newPrivateKey = (): string => `lkp_${randomBytes(32).toString('base64url')}`;
