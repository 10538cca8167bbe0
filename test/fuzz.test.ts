// The fuzz run over the whole API, bounded for CI: every operation of /openapi.json, FUZZ_CI_RUNS cases each (three
// requests a case: anonymous, another user, the owner), from a fixed seed. See test/helpers/fuzz.ts for what is
// sent and checked, and `npm run bench:fuzz` for the long run.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { audit } from '../src/core/ledger/ledger.ts';
import type { AnyModule } from '../src/core/module.ts';
import { MODULE_LOADERS } from '../src/modules/index.ts';
import { startTestApp } from './helpers/app.ts';
import {
  callers,
  caseFor,
  type Finding,
  type FuzzContext,
  type OperationStats,
  operationsOf,
  recordedRefusals,
  requestLine,
  runCase,
  seedOf,
} from './helpers/fuzz.ts';
import { routeCollector } from './helpers/routes.ts';
import { jobsSettled } from './helpers/until.ts';

const SEED = 20_261_205;
const RUNS = 4;

const builtIn: AnyModule[] = [];
for (const load of Object.values(MODULE_LOADERS)) builtIn.push(await load());
const collected = routeCollector(builtIn);
// Rate limits stay off (the test app's configuration): the run sends hundreds of requests per caller a minute.
const t = await startTestApp({
  config: { demo: true },
  overrides: { extraModules: collected.modules, onRoute: collected.onRoute },
});
afterAll(async () => t.close());

const { operations, unmatched, offKit } = await operationsOf(t.app, collected.routes);
const ctx: FuzzContext = {
  app: t.app,
  callers: callers(t.app),
  stats: new Map<string, OperationStats>(),
  recorded: recordedRefusals(builtIn),
};
const secrets = { 'x-callback-token': t.config.xenditCallbackToken ?? '' };

describe('fuzz: every operation of /openapi.json', () => {
  it('the document lists every module; every operation is a route, on the kit unless it is a core one', () => {
    expect(unmatched).toEqual([]);
    expect(offKit.filter((r) => r.owner !== undefined).map((r) => `${r.method} ${r.url}`)).toEqual([]);
    const modules = new Set(operations.map((o) => o.route.owner ?? 'core'));
    for (const m of builtIn) expect(modules, m.name).toContain(m.name);
    expect(operations.length).toBeGreaterThan(100);
  });

  for (const op of operations) {
    it(`${op.key}: no 5xx, errors in its envelope, a 4xx writes nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(caseFor(op, secrets), async (c) => {
          const findings: Finding[] = await runCase(ctx, op, c);
          expect(findings.map((f) => `${f.problem}\n    ${requestLine(f)}`)).toEqual([]);
        }),
        { seed: seedOf(SEED, op.key), numRuns: RUNS, endOnFailure: true },
      );
    });
  }

  it('after the run the ledger is balanced: every journal sums to zero, balances match their entries', async () => {
    await jobsSettled(t.app);
    expect(await audit(t.app.loket.database.db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
    expect([...ctx.stats.values()].reduce((n, s) => n + s.sent, 0)).toBeGreaterThan(0);
  });
});
