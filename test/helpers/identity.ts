// Small factories for identity: each test makes its own accounts.
import { randomBytes } from 'node:crypto';
import type { App } from '../../src/app.ts';
import type { Memberships } from '../../src/core/identity/accounts.ts';
import { rememberSecret } from './app.ts';

export interface TestAccount {
  id: number;
  email: string;
  username: string;
  password: string;
}

export async function makeAccount(
  app: App,
  memberships: Memberships = {},
  extra: { phone?: string } = {},
): Promise<TestAccount> {
  const tag = randomBytes(5).toString('hex');
  const email = `user-${tag}@example.com`;
  const username = `user_${tag}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  rememberSecret(password);
  const account = await app.loket.identity.service.createAccount(
    { email, username, name: `User ${tag}`, password, memberships, phone: extra.phone },
    null,
    { requestId: 'test', ip: null },
  );
  return { id: account.id, email, username, password };
}

export async function tokensFor(app: App, who: { email: string; password: string }) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/users/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ username: who.email, password: who.password }).toString(),
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const pair = res.json() as { access_token: string; refresh_token: string; expires_in: number; token_type: string };
  rememberSecret(pair.access_token, pair.refresh_token);
  return pair;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
