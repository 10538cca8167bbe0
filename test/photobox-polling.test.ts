// Polling answers come from memory most of the time (src/modules/photobox/status-cache.ts). What a kiosk must never
// notice: once a payment is recorded, the very next poll says so — on this instance and on any other.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createStatusCache } from '../src/modules/photobox/status-cache.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { createTestDatabase, REAL_PG } from './helpers/db.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { statusOf, waitFor } from './helpers/photobox.ts';

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

describe('the status cache', () => {
  it('keeps final answers, trusts PENDING for a bounded time, and never keeps a read overtaken by a change', () => {
    let now = 0;
    const c = createStatusCache<string>({ maxEntries: 3, pendingMaxAgeMs: 10_000, clock: () => now });
    c.store('a', 'PENDING', false, c.begin());
    c.store('b', 'COMPLETED', true, c.begin());
    expect(c.get('a')).toBe('PENDING');
    now = 10_001;
    expect(c.get('a')).toBeUndefined(); // a lost notice costs at most this long
    expect(c.get('b')).toBe('COMPLETED');

    // A read that began before a change was announced is not kept: it may have seen the old row.
    const begun = c.begin();
    c.invalidate('a');
    c.store('a', 'PENDING', false, begun);
    expect(c.get('a')).toBeUndefined();
    // A read that began after the notice is kept.
    c.store('a', 'COMPLETED', true, c.begin());
    expect(c.get('a')).toBe('COMPLETED');

    c.invalidate('b');
    expect(c.get('b')).toBeUndefined();
    for (const id of ['x', 'y', 'z']) c.store(id, 'EXPIRED', true, c.begin());
    expect(c.get('a')).toBeUndefined(); // the oldest is evicted beyond maxEntries
    expect(c.get('z')).toBe('EXPIRED');
  });
});

async function setUp(t: TestApp) {
  const admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: 50 }))).access_token);
  const loc = await t.app.inject({
    method: 'POST',
    url: '/api/v1/locations',
    headers: admin,
    payload: { ml_name: `Lokasi ${randomBytes(3).toString('hex')}`, ml_address: 'Jl. Contoh 1' },
  });
  return { admin, locationId: loc.json().data.ml_id as number };
}

async function newTransaction(t: TestApp, s: { admin: Record<string, string>; locationId: number }) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/transactions',
    headers: s.admin,
    payload: { location_id: s.locationId },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data.tr_external_id as string;
}

/** Waits until the payment is committed in the database, then gives the poll 300 ms at most (not the 10 s bound). */
async function promptlySeen(db: TestApp, poller: TestApp, id: string, status: string) {
  await waitFor(`${status} in the database`, async () => {
    const row = await db.app.loket.database.db
      .selectFrom('photobox_transactions')
      .select('tr_status')
      .where('tr_external_id', '=', id)
      .executeTakeFirst();
    return row?.tr_status === status;
  });
  const seenBy = Date.now() + 300;
  for (;;) {
    if ((await statusOf(poller, id)).tr_status === status) return;
    if (Date.now() > seenBy) throw new Error(`poll still not ${status} 300 ms after the commit`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('polling after a change', () => {
  it('a poll right after the payment is recorded says COMPLETED; after expiry, EXPIRED', async () => {
    const t = await startTestApp({ config: { modules: ['photobox'] } });
    closers.push(() => t.close());
    const s = await setUp(t);

    const paid = await newTransaction(t, s);
    for (let i = 0; i < 3; i++) expect((await statusOf(t, paid)).tr_status).toBe('PENDING'); // now in memory
    expect((await t.app.inject({ method: 'POST', url: `/_dev/payments/${paid}/pay` })).statusCode).toBe(200);
    await promptlySeen(t, t, paid, 'COMPLETED');

    const lapsed = await newTransaction(t, s);
    expect((await statusOf(t, lapsed)).tr_status).toBe('PENDING');
    expect((await t.app.inject({ method: 'POST', url: `/_dev/payments/${lapsed}/expire` })).statusCode).toBe(200);
    await promptlySeen(t, t, lapsed, 'EXPIRED');
  });

  // Several instances need a database server; the embedded database belongs to one process.
  if (REAL_PG) {
    it('an instance that did not process the payment drops its copy at once too', async () => {
      const db = await createTestDatabase();
      const prefix = `loket-test-${randomBytes(6).toString('hex')}:`;
      const a = await startTestApp({ db, config: { modules: ['photobox'], redisPrefix: prefix } });
      const b = await startTestApp({ db, config: { modules: ['photobox'], redisPrefix: prefix } });
      closers.push(async () => {
        await a.close();
        await b.close();
        await db.drop();
      });
      const s = await setUp(a);
      const id = await newTransaction(a, s);
      for (let i = 0; i < 3; i++) {
        expect((await statusOf(a, id)).tr_status).toBe('PENDING');
        expect((await statusOf(b, id)).tr_status).toBe('PENDING');
      }
      expect((await a.app.inject({ method: 'POST', url: `/_dev/payments/${id}/pay` })).statusCode).toBe(200);
      await promptlySeen(a, b, id, 'COMPLETED');
      await promptlySeen(a, a, id, 'COMPLETED');
    });
  }
});
