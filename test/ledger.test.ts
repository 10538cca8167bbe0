import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../src/core/db/tables.ts';
import { withTransaction } from '../src/core/db/transaction.ts';
import { audit, balanceOf, ensureAccounts, post, postingBatchCall, sharedBalance } from '../src/core/ledger/ledger.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';

const accountExists = async (db: Executor, code: string) =>
  (await db.selectFrom('ledger_accounts').select('id').where('code', '=', code).executeTakeFirst()) !== undefined;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

const cash = { code: 'test:cash', kind: 'cash' } as const;
const clearing = { code: 'test:clearing', kind: 'clearing' } as const;
const wallet = (n: number) => ({ code: `test:wallet:${n}`, kind: 'wallet' }) as const;
let seq = 0;
const ref = () => `r${++seq}`;

describe('ledger', () => {
  it('a posting changes exactly the accounts it names', async () => {
    const db = t.app.loket.database.db;
    await post(db, { kind: 'iso', reference: ref(), at: new Date() }, [
      { account: wallet(900), amount: 5_000 },
      { account: cash, amount: -5_000 },
    ]);
    await post(db, { kind: 'iso', reference: ref(), at: new Date() }, [
      { account: wallet(901), amount: 7_000 },
      { account: cash, amount: -7_000 },
    ]);
    const before = await balanceOf(db, 'test:wallet:900');
    await post(db, { kind: 'iso', reference: ref(), at: new Date() }, [
      { account: wallet(901), amount: -1_000 },
      { account: clearing, amount: 1_000 },
    ]);
    expect(await balanceOf(db, 'test:wallet:900')).toBe(before);
    expect(await balanceOf(db, 'test:wallet:901')).toBe(6_000);
  });

  it('a sharded account: a posting that names a row uses it, one that does not uses the row its reference picks', async () => {
    const db = t.app.loket.database.db;
    const house = { code: `test:house:${ref()}`, kind: 'clearing', shards: 8 } as const;
    await ensureAccounts(db, [house]);
    const named = await post(db, { kind: 'rows', reference: ref(), at: new Date() }, [
      { account: cash, amount: -40 },
      { account: house, amount: 40, shard: 5 },
    ]);
    expect(named.ok && [...named.balances.keys()]).toContain(`${house.code}#5`);
    expect(await balanceOf(db, `${house.code}#5`)).toBe(40);
    // Taking the money back out of another row would take that row below zero: refused, nothing changes.
    const wrongRow = await post(db, { kind: 'rows', reference: ref(), at: new Date() }, [
      { account: house, amount: -40, shard: 2 },
      { account: cash, amount: 40 },
    ]);
    expect(wrongRow).toMatchObject({ ok: false, reason: 'insufficient' });
    expect(await sharedBalance(db, house)).toBe(40);
    const back = await post(db, { kind: 'rows', reference: ref(), at: new Date() }, [
      { account: house, amount: -40, shard: 5 },
      { account: cash, amount: 40 },
    ]);
    expect(back.ok).toBe(true);
    expect(await sharedBalance(db, house)).toBe(0);
    // Without a row, the reference picks one of the eight.
    const hashed = await post(db, { kind: 'rows', reference: ref(), at: new Date() }, [
      { account: cash, amount: -3 },
      { account: house, amount: 3 },
    ]);
    expect(hashed.ok && [...hashed.balances.keys()].some((c) => /#[0-7]$/.test(c))).toBe(true);
    expect(await sharedBalance(db, house)).toBe(3);
    // A row that does not exist is a programming error, caught before any SQL runs.
    await expect(
      post(db, { kind: 'rows', reference: ref(), at: new Date() }, [
        { account: cash, amount: -1 },
        { account: house, amount: 1, shard: 8 },
      ]),
    ).rejects.toThrow(/no row 8/);
  });

  it('journals that create the same new account at the same moment all go through (none is called overdrawn)', async () => {
    const db = t.app.loket.database.db;
    const fresh = { code: `test:new:${ref()}`, kind: 'clearing' } as const;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        withTransaction(db, (trx) =>
          post(trx, { kind: 'race', reference: ref(), at: new Date() }, [
            { account: cash, amount: -10 },
            { account: fresh, amount: 10 },
          ]),
        ),
      ),
    );
    expect(results.map((r) => r.ok)).toEqual(Array(20).fill(true));
    expect(await balanceOf(db, fresh.code)).toBe(200);
  });

  it('a batch of journals posts each whole or not at all: a short wallet and a repeated reference skip only themselves', async () => {
    const db = t.app.loket.database.db;
    const a = wallet(950);
    const b = wallet(951);
    await post(db, { kind: 'fund', reference: ref(), at: new Date() }, [
      { account: a, amount: 300 },
      { account: cash, amount: -300 },
    ]);
    const done = ref();
    await post(db, { kind: 'spend', reference: done, at: new Date() }, [
      { account: a, amount: -10 },
      { account: clearing, amount: 10 },
    ]);
    const spend = (account: typeof a, amount: number, reference = ref()) => ({
      reference,
      postings: [
        { account, amount: -amount },
        { account: clearing, amount },
      ],
    });
    const clearingBefore = await balanceOf(db, clearing.code);
    // a has 290: 200 fits, the next 100 does not (90 left), 90 fits exactly; b was never funded; `done` is posted.
    const { call } = postingBatchCall('spend', new Date(), [
      spend(a, 200),
      spend(a, 100),
      spend(b, 1),
      spend(a, 90),
      spend(a, 5, done),
    ]);
    const rows = (
      await sql<{ out_index: number; out_reason: string; out_journal: string | null; out_balances: string[] | null }>`
        SELECT * FROM ${call}`.execute(db)
    ).rows;
    expect(rows.map((r) => [r.out_index, r.out_reason])).toEqual([
      [1, 'ok'],
      [2, 'insufficient'],
      [3, 'insufficient'],
      [4, 'ok'],
      [5, 'duplicate'],
    ]);
    // Each ok journal reports the balances right after it, in the order of its (sorted) codes.
    const { codes } = postingBatchCall('spend', new Date(), [spend(a, 200)]);
    const walletFirst = codes[0]?.[0] === a.code;
    const balancesAfter = (r: (typeof rows)[number]) =>
      walletFirst ? r.out_balances : r.out_balances?.slice().reverse();
    expect(balancesAfter(rows[0] as (typeof rows)[number])).toEqual(['90', String(clearingBefore + 200)]);
    expect(balancesAfter(rows[3] as (typeof rows)[number])).toEqual(['0', String(clearingBefore + 290)]);
    expect(rows.filter((r) => r.out_journal !== null)).toHaveLength(2);
    expect(await accountExists(db, b.code)).toBe(false); // a refused journal creates nothing
    expect(await balanceOf(db, a.code)).toBe(0);
    expect(await balanceOf(db, b.code)).toBe(0);
    expect(await balanceOf(db, clearing.code)).toBe(clearingBefore + 290);
    const check = await audit(db);
    expect(check.unbalancedJournals).toBe(0);
    expect(check.driftedAccounts).toBe(0);
  });

  it('in one batch, a reference given twice posts once, and an account a journal credits is created', async () => {
    const db = t.app.loket.database.db;
    const fresh = wallet(952);
    const twice = ref();
    const topUp = (reference: string) => ({
      reference,
      postings: [
        { account: cash, amount: -70 },
        { account: fresh, amount: 70 },
      ],
    });
    const { call } = postingBatchCall('fund', new Date(), [topUp(twice), topUp(twice), topUp(ref())]);
    const rows = (await sql<{ out_reason: string }>`SELECT * FROM ${call}`.execute(db)).rows;
    expect(rows.map((r) => r.out_reason)).toEqual(['ok', 'duplicate', 'ok']);
    expect(await balanceOf(db, fresh.code)).toBe(140);
    const check = await audit(db);
    expect(check.unbalancedJournals).toBe(0);
    expect(check.driftedAccounts).toBe(0);
    // An unbalanced journal fails the whole statement.
    await expect(
      sql`SELECT * FROM ledger_post_many('fund', ARRAY['x'], now(), ARRAY[ARRAY['a','b']], ARRAY[ARRAY['cash','cash']],
        ARRAY[ARRAY[NULL,NULL]]::bigint[], ARRAY[ARRAY[5,-4]]::bigint[])`.execute(db),
    ).rejects.toThrow(/unbalanced/);
  });

  it('refuses unbalanced journals and the same (kind, reference) twice', async () => {
    const db = t.app.loket.database.db;
    await expect(
      post(db, { kind: 'x', reference: ref(), at: new Date() }, [
        { account: cash, amount: 1 },
        { account: clearing, amount: 2 },
      ]),
    ).rejects.toThrow(/unbalanced/);
    const r = ref();
    const once = await post(db, { kind: 'refund', reference: r, at: new Date() }, [
      { account: cash, amount: -1 },
      { account: wallet(1), amount: 1 },
    ]);
    const twice = await post(db, { kind: 'refund', reference: r, at: new Date() }, [
      { account: cash, amount: -1 },
      { account: wallet(1), amount: 1 },
    ]);
    expect(once.ok).toBe(true);
    expect(twice).toEqual({ ok: false, reason: 'duplicate' });
  });

  it('any sequence of top-ups, purchases and refunds keeps every journal balanced and no wallet below zero', async () => {
    const db = t.app.loket.database.db;
    const op = fc.record({
      kind: fc.constantFrom('topup', 'buy', 'refund'),
      wallet: fc.integer({ min: 0, max: 3 }),
      amount: fc.integer({ min: 1, max: 50_000 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const base = 1000 + Math.floor(Math.random() * 1e6);
        const model = new Map<number, number>();
        for (const o of ops) {
          const w = wallet(base + o.wallet);
          const have = model.get(o.wallet) ?? 0;
          const postings =
            o.kind === 'topup'
              ? [
                  { account: w, amount: o.amount },
                  { account: cash, amount: -o.amount },
                ]
              : o.kind === 'buy'
                ? [
                    { account: w, amount: -o.amount },
                    { account: clearing, amount: o.amount },
                  ]
                : [
                    { account: clearing, amount: -Math.min(o.amount, 1) },
                    { account: w, amount: Math.min(o.amount, 1) },
                  ];
          const res = await withTransaction(db, async (trx) => {
            const r = await post(trx, { kind: o.kind, reference: ref(), at: new Date() }, postings);
            if (!r.ok) throw Object.assign(new Error('refused'), { result: r });
            return r;
          }).catch((e) => e.result);
          const posting = postings[o.kind === 'refund' ? 1 : 0];
          if (!posting) throw new Error('the operation has no posting to the wallet');
          const delta = posting.amount;
          if (have + delta < 0) expect(res).toMatchObject({ ok: false, reason: 'insufficient' });
          else if (o.kind !== 'refund' || (await balanceOf(db, 'test:clearing')) >= 0) {
            if (res.ok) model.set(o.wallet, have + delta);
          }
        }
        for (const [n, expected] of model) expect(await balanceOf(db, `test:wallet:${base + n}`)).toBe(expected);
      }),
      { numRuns: 15 },
    );
    const a = await audit(db);
    expect(a.unbalancedJournals).toBe(0);
    expect(a.driftedAccounts).toBe(0);
    expect(a.total).toBe(0);
    const negative = await db
      .selectFrom('ledger_accounts')
      .select('code')
      .where('kind', '=', 'wallet')
      .where('balance', '<', 0)
      .execute();
    expect(negative).toEqual([]);
  }, 120_000);
});
