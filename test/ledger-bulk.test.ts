// Journals that cannot be refused, posted as one set (`postUnrefusable`): every journal whole, once, in a fixed
// number of statements; the ledger balances; a set whose net change would overdraw a protected account changes nothing.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../src/core/db/transaction.ts';
import { postUnrefusable } from '../src/core/ledger/bulk.ts';
import { audit, balanceOf, post } from '../src/core/ledger/ledger.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

const revenue = { code: 'bulk:revenue', kind: 'revenue' } as const;
const tax = { code: 'bulk:tax', kind: 'clearing' } as const;
const owed = (n: number) => ({ code: `bulk:receivable:${n}`, kind: 'adjustment' }) as const;
const issue = (reference: string, customer: number, subtotal: number, ppn: number) => ({
  reference,
  postings: [
    { account: owed(customer), amount: -(subtotal + ppn) },
    { account: revenue, amount: subtotal },
    ...(ppn ? [{ account: tax, amount: ppn }] : []),
  ],
});

const journalCount = async (kind: string) =>
  Number(
    (
      await sql<{ n: string }>`SELECT count(*) AS n FROM ledger_journals WHERE kind = ${kind}`.execute(
        t.app.loket.database.db,
      )
    ).rows[0]?.n,
  );

describe('postUnrefusable', () => {
  it('posts each journal once with its entries and balances, creates missing accounts, and skips references already posted', async () => {
    const db = t.app.loket.database.db;
    const kind = 'bulk.issue';
    const set = [issue('1', 1, 100_000, 11_000), issue('2', 2, 50_000, 0), issue('3', 1, 20_000, 2_200)];
    const first = await withTransaction(db, (trx) => postUnrefusable(trx, kind, new Date(), set));
    expect(first).toEqual({ posted: 3, duplicates: 0 });
    expect(await balanceOf(db, 'bulk:receivable:1')).toBe(-133_200);
    expect(await balanceOf(db, 'bulk:receivable:2')).toBe(-50_000);
    expect(await balanceOf(db, 'bulk:revenue')).toBe(170_000);
    expect(await balanceOf(db, 'bulk:tax')).toBe(13_200);
    const entries = await sql<{ reference: string; n: string; s: string }>`
      SELECT j.reference, count(*) AS n, sum(e.amount) AS s FROM ledger_journals j
        JOIN ledger_entries e ON e.journal_id = j.id WHERE j.kind = ${kind} GROUP BY j.reference ORDER BY 1`.execute(
      db,
    );
    expect(entries.rows.map((r) => [r.reference, Number(r.n), Number(r.s)])).toEqual([
      ['1', 3, 0],
      ['2', 2, 0],
      ['3', 3, 0],
    ]);
    // Again, with one new journal: only that one is posted.
    const again = await withTransaction(db, (trx) =>
      postUnrefusable(trx, kind, new Date(), [...set, issue('4', 3, 10_000, 1_100)]),
    );
    expect(again).toEqual({ posted: 1, duplicates: 3 });
    expect(await journalCount(kind)).toBe(4);
    expect(await balanceOf(db, 'bulk:revenue')).toBe(180_000);
    expect(await audit(db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  });

  it('a set whose net change would take an account that may not go negative below zero changes nothing', async () => {
    const db = t.app.loket.database.db;
    const before = await balanceOf(db, 'bulk:revenue');
    const kind = 'bulk.reverse';
    await expect(
      withTransaction(db, (trx) =>
        postUnrefusable(trx, kind, new Date(), [
          {
            reference: 'r1',
            postings: [
              { account: owed(1), amount: before + 1 },
              { account: revenue, amount: -(before + 1) },
            ],
          },
        ]),
      ),
    ).rejects.toThrow();
    expect(await balanceOf(db, 'bulk:revenue')).toBe(before);
    expect(await journalCount(kind)).toBe(0);
    expect(await audit(db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  });

  it('refuses an unbalanced journal or a reference given twice before writing anything', async () => {
    const db = t.app.loket.database.db;
    const kind = 'bulk.bad';
    const unbalanced = {
      reference: 'u',
      postings: [
        { account: owed(9), amount: -100 },
        { account: revenue, amount: 99 },
      ],
    };
    await expect(
      withTransaction(db, (trx) => postUnrefusable(trx, kind, new Date(), [issue('a', 9, 1_000, 0), unbalanced])),
    ).rejects.toThrow(/unbalanced/);
    await expect(
      withTransaction(db, (trx) =>
        postUnrefusable(trx, kind, new Date(), [issue('a', 9, 1_000, 0), issue('a', 9, 1_000, 0)]),
      ),
    ).rejects.toThrow(/twice/);
    expect(await journalCount(kind)).toBe(0);
    expect(await balanceOf(db, 'bulk:receivable:9')).toBe(0);
  });

  it('single postings and a set on the same accounts at once all land (rows locked in one order)', async () => {
    const db = t.app.loket.database.db;
    const kind = 'bulk.mixed';
    const before = await balanceOf(db, 'bulk:revenue');
    const sets = Array.from({ length: 4 }, (_, k) =>
      withTransaction(db, (trx) =>
        postUnrefusable(
          trx,
          kind,
          new Date(),
          Array.from({ length: 50 }, (_, i) => issue(`s${k}-${i}`, 100 + i, 1_000, 110)),
        ),
      ),
    );
    const singles = Array.from({ length: 10 }, (_, i) =>
      post(db, { kind, reference: `p${i}`, at: new Date() }, [
        { account: owed(100 + i), amount: -500 },
        { account: revenue, amount: 500 },
      ]),
    );
    await Promise.all([...sets, ...singles]);
    expect(await journalCount(kind)).toBe(210);
    expect(await balanceOf(db, 'bulk:revenue')).toBe(before + 200 * 1_000 + 10 * 500);
    expect(await audit(db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  });
});
