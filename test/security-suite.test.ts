// The shared security suite. It WALKS THE ROUTE TABLE: the app is built with every module of the build (and the
// guard probe fixture), every registered route is collected with what the route kit declared in its config
// (`access`, `module`, `envelope`), and each route gets the checks its declaration calls for:
//
// - protected (bearer or key): no credentials → 401, in the route's envelope;
// - bearer at level L in module M: an account at L - 1 in M → 403 (at L = 1: an account without membership in M);
//   at L = 0 there is nothing lower (any live session passes);
// - API key accepted: a key issued for another module → 401 (and where a level is declared, a key whose owner is
//   below it → 403);
// - any body, query or params schema: inputs the schema refuses, sent with credentials that pass the guard → 4xx
//   in the route's envelope (never 5xx), and no row written anywhere (row counts of every public table and the
//   ledger's sums, before and after).
//
// Routes of a module that are not on the kit yet carry no `access`: each is listed as a named `it.todo` (those a
// module registers outside its prefixes too, marked so), and a test fails if a route under a module's prefix lacks
// `access` while its module is not in MODULES_NOT_YET_ON_THE_KIT (or a module on that list has none left).
//
// "Another owner's id → 404" is not generic: it needs a resource of one owner made by the module's own flow. It
// stays in the modules' tests (ppob `/status/:trx_id` and `/deposit/:id`, IM3 `/api/packages/transactions/:id`,
// photobox transactions, payments' QR), not here.
//
// The token checks that do not depend on the route (alg none, a guessed key, expiry, logout, a disabled account,
// rotated keys) run once per guard kind, on the probe routes and the core's admin routes, below the walk.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createSessions } from '../src/core/identity/sessions.ts';
import type { AnyModule } from '../src/core/module.ts';
import { MODULE_LOADERS } from '../src/modules/index.ts';
import { guardModule } from './fixtures/guard-module.ts';
import { startTestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import {
  envelopeProblems,
  fillUrl,
  malformedInputs,
  type Protection,
  protectionOf,
  routeCollector,
  snapshot,
  type WalkedRoute,
} from './helpers/routes.ts';
import { apiKeySecuritySuite, bearerSecuritySuite } from './helpers/security.ts';

/**
 * Modules whose routes are still being moved onto the route kit. Their routes without `access` are listed as
 * todos; a route under any other module's prefixes without `access` fails the suite, and so does a module left on
 * this list once it has none. The merges that finish the move empty it.
 */
const MODULES_NOT_YET_ON_THE_KIT: readonly string[] = [];

const builtIn: AnyModule[] = [];
for (const load of Object.values(MODULE_LOADERS)) builtIn.push(await load());
const collected = routeCollector([...builtIn, guardModule]);
// Built-in modules are mounted as extra modules (same order, same wiring) so that each route is known by the
// module that registered it.
const t = await startTestApp({ overrides: { extraModules: collected.modules, onRoute: collected.onRoute } });
afterAll(async () => t.close());

const label = (r: WalkedRoute) => `${r.method} ${r.url}`;
const walked = collected.routes.map((route) => ({ route, protection: protectionOf(route) }));
const onKit = walked.filter((w): w is { route: WalkedRoute; protection: Protection } => w.protection !== undefined);
const moduleRoutesOffKit = walked.filter((w) => w.protection === undefined && w.route.owner !== undefined);
const prefixesOf = new Map(
  [...builtIn, guardModule].map((m) => [m.name, [...m.prefixes, ...(m.otherPrefixes ?? []).map(([p]) => p)]]),
);
/** Whether the route lies under one of its module's path prefixes (as the envelope lookup matches them). */
const underItsPrefix = (r: WalkedRoute) =>
  (prefixesOf.get(r.owner ?? '') ?? []).some((p) => r.url === p || r.url.startsWith(p.endsWith('/') ? p : `${p}/`));
const prefixedOffKit = moduleRoutesOffKit.filter((w) => underItsPrefix(w.route));

// ---- credentials, made once per kind ---------------------------------------------------------------------------

const memo = new Map<string, Promise<Record<string, string>>>();
function once(key: string, make: () => Promise<Record<string, string>>) {
  let p = memo.get(key);
  if (!p) {
    p = make();
    memo.set(key, p);
  }
  return p;
}

/** Bearer headers of an account holding exactly these levels (none: no membership at all). */
const bearerOf = (levels: Record<string, number>) =>
  once(`bearer ${JSON.stringify(levels)}`, async () => {
    const a = await makeAccount(t.app, levels);
    return bearer((await tokensFor(t.app, a)).access_token);
  });

/** An `x-api-key` for `module`, whose owner holds these levels. */
const keyOf = (module: string, levels: Record<string, number>) =>
  once(`key ${module} ${JSON.stringify(levels)}`, async () => {
    const a = await makeAccount(t.app, levels);
    const issued = await t.app.loket.identity.apiKeys.issue(t.app.loket.database.db, a.id, module);
    return { 'x-api-key': issued.apiKey };
  });

/** A module other than `module` whose keys are real keys of the build. */
const otherModule = (module: string) => (module === 'ppob' ? 'photobox' : 'ppob');

/** Headers that pass the route's guard. */
function passing(p: Protection): Promise<Record<string, string>> {
  if (p.kind === 'public') return Promise.resolve({});
  if (p.kind === 'apiKey') return keyOf(p.module, { [p.module]: 1 });
  return bearerOf({ [p.module]: Math.max(p.level, 1) });
}

// ---- the envelope ----------------------------------------------------------------------------------------------

function expectEnvelope(r: WalkedRoute, res: { statusCode: number; body: string }, what: string) {
  const envelope = r.envelope;
  if (!envelope) throw new Error(`${label(r)} has access but no envelope in its config`);
  expect(envelopeProblems(envelope, res), `${label(r)} ${what}: ${res.body.slice(0, 500)}`).toEqual([]);
}

async function call(r: WalkedRoute, headers: Record<string, string>, url = fillUrl(r), payload?: unknown) {
  return t.app.inject({
    method: r.method,
    url,
    headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
}

// ---- the walk --------------------------------------------------------------------------------------------------

describe('security suite: the route table', () => {
  it('walks the modules and the core: routes on the kit were found, every module is represented', () => {
    expect(onKit.length).toBeGreaterThan(0);
    const owners = new Set(collected.routes.map((r) => r.owner));
    for (const mod of [...builtIn, guardModule]) expect(owners, mod.name).toContain(mod.name);
  });

  it('every route under a module prefix is on the kit (declares `access`), except in MODULES_NOT_YET_ON_THE_KIT', () => {
    const offenders = prefixedOffKit
      .filter((w) => !MODULES_NOT_YET_ON_THE_KIT.includes(w.route.owner as string))
      .map((w) => `${w.route.owner}: ${label(w.route)}`);
    expect(offenders, 'routes without `access` (register them through the module router)').toEqual([]);
  });

  it('MODULES_NOT_YET_ON_THE_KIT names only modules that still have routes off the kit (empty it as they move)', () => {
    const stillOff = new Set(prefixedOffKit.map((w) => w.route.owner));
    const stale = MODULES_NOT_YET_ON_THE_KIT.filter((m) => !stillOff.has(m));
    expect(stale, 'these modules are fully on the kit: remove them from MODULES_NOT_YET_ON_THE_KIT').toEqual([]);
  });

  describe('not on the route kit yet (no `access` in the route config)', () => {
    it('every route a module registers is on the route kit', () => {
      expect(moduleRoutesOffKit.map(({ route }) => `${route.owner}: ${label(route)}`)).toEqual([]);
    });
    for (const { route } of moduleRoutesOffKit) {
      const where = underItsPrefix(route) ? '' : ' (outside its prefixes)';
      it.todo(`${route.owner}: ${label(route)}${where} — not on the route kit yet, so the walk cannot check it`);
    }
  });

  for (const { route: r, protection: p } of onKit) {
    const where = `${label(r)} (${p.kind === 'public' ? 'public' : p.kind === 'apiKey' ? `${p.module} key` : `${p.module} ≥ ${p.level}${p.apiKey ? ' or key' : ''}`})`;
    const inputs = r.body || r.querystring || r.params ? malformedInputs(r) : [];
    // A public route with no malformed input to try (no schemas, or schemas that accept anything the walk can
    // send) has no token and no input check for the walk to make.
    if (p.kind === 'public' && inputs.length === 0) continue;
    describe(where, () => {
      if (p.kind !== 'public') {
        it('401 without credentials, in its envelope', async () => {
          const res = await call(r, {});
          expect(res.statusCode, res.body).toBe(401);
          expectEnvelope(r, res, 'without credentials');
        });
      }

      if (p.kind === 'bearer' && p.level > 1) {
        it(`403 for a bearer token at level ${p.level - 1} in ${p.module}, in its envelope`, async () => {
          const res = await call(r, await bearerOf({ [p.module]: p.level - 1 }));
          expect(res.statusCode, res.body).toBe(403);
          expectEnvelope(r, res, 'below the level');
        });
      }
      if (p.kind === 'bearer' && p.level >= 1) {
        it(`403 for a bearer token of an account without membership in ${p.module}`, async () => {
          const res = await call(r, await bearerOf({}));
          expect(res.statusCode, res.body).toBe(403);
          expectEnvelope(r, res, 'without membership');
        });
      }
      // A bearer route at level 0 admits any live session: there is no lower level to refuse.

      if (p.kind === 'apiKey' || (p.kind === 'bearer' && p.apiKey)) {
        const other = otherModule(p.module);
        it(`401 for an API key issued for ${other}`, async () => {
          const res = await call(r, await keyOf(other, { [p.module]: 100, [other]: 100 }));
          expect(res.statusCode, res.body).toBe(401);
          expectEnvelope(r, res, 'with a key of another module');
        });
      }
      if (p.kind === 'bearer' && p.apiKey && p.level >= 1) {
        it(`403 for an API key of ${p.module} whose owner is below level ${p.level}`, async () => {
          // Below level 1 is no membership at all (levels start at 1).
          const res = await call(r, await keyOf(p.module, p.level > 1 ? { [p.module]: p.level - 1 } : {}));
          expect(res.statusCode, res.body).toBe(403);
          expectEnvelope(r, res, 'with a key below the level');
        });
      }

      // Schemas that accept anything the walk can send leave it no malformed input to try.
      if (inputs.length > 0) {
        it(`malformed input (${inputs.length} variants) → 4xx in its envelope, nothing written`, async () => {
          const headers = await passing(p);
          const before = await snapshot(t.app);
          for (const input of inputs) {
            const res = await call(r, headers, input.url, input.payload);
            expect(res.statusCode, `${input.what}: ${res.body}`).toBeGreaterThanOrEqual(400);
            expect(res.statusCode, `${input.what}: ${res.body}`).toBeLessThan(500);
            expectEnvelope(r, res, input.what);
          }
          expect(await snapshot(t.app)).toEqual(before);
        });
      }
    });
  }
});

// ---- the token checks, once per guard kind ---------------------------------------------------------------------

describe('security suite: tokens and keys on the core admin routes and the guard probes', () => {
  bearerSecuritySuite(() => t, { method: 'GET', url: '/api/admin/accounts', module: 'platform', minLevel: 100 });
  // With every module mounted, billing reads the log its own way (ModuleDefinition.activityLog): its admins.
  bearerSecuritySuite(() => t, { method: 'GET', url: '/api/activity-logs', module: 'billing', minLevel: 50 });
  bearerSecuritySuite(() => t, {
    method: 'GET',
    url: '/api/probe-guard/photobox-admin',
    module: 'photobox',
    minLevel: 50,
  });
  bearerSecuritySuite(() => t, {
    method: 'GET',
    url: '/api/probe-guard/photobox-read',
    module: 'photobox',
    minLevel: 1,
  });
  apiKeySecuritySuite(() => t, { method: 'GET', url: '/api/probe-guard/ppob-key', module: 'ppob' });
});

describe('signing key rotation', () => {
  it('tokens signed with LOKET_PREVIOUS_SECRET stay valid after the secret changes; without it they do not', async () => {
    const { db } = t.app.loket.database;
    const { bus, now } = t.app.loket;
    const ttl = { accessTokenTtlMinutes: 60, refreshTokenTtlDays: 7 };
    const oldSecret = 'the-secret-before-rotation-0000000000000000';
    const newSecret = 'the-secret-after-rotation-11111111111111111';
    const before = createSessions({ config: { ...ttl, secret: oldSecret, previousSecret: undefined }, db, bus, now });
    const a = await makeAccount(t.app);
    const token = await before.issueAccess(a.id, randomUUID(), 0);
    const during = createSessions({ config: { ...ttl, secret: newSecret, previousSecret: oldSecret }, db, bus, now });
    await expect(during.verifyAccess(token)).resolves.toMatchObject({ accountId: a.id });
    const after = createSessions({ config: { ...ttl, secret: newSecret, previousSecret: undefined }, db, bus, now });
    await expect(after.verifyAccess(token)).rejects.toMatchObject({ code: 'AUTHENTICATION_ERROR' });
    // New tokens are signed with the new secret only.
    const fresh = await during.issueAccess(a.id, randomUUID(), 0);
    await expect(after.verifyAccess(fresh)).resolves.toMatchObject({ accountId: a.id });
    await expect(before.verifyAccess(fresh)).rejects.toMatchObject({ code: 'AUTHENTICATION_ERROR' });
  });
});
