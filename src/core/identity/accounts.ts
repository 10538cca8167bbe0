// Accounts and their module levels (CONTRACTS §2): the repository, and a cached view of what a token holder may
// do, dropped on every instance the moment an account changes.

import { sql } from 'kysely';
import { containsPattern } from '../db/like.ts';
import type { Executor } from '../db/tables.ts';
import type { Bus } from '../notify/bus.ts';

/** Level 100 in `platform` makes a platform admin: level 100 in every module. */
export const PLATFORM = 'platform';
const membershipModules = new Set<string>([PLATFORM]);

/** The modules an account may hold a level in: every module of the build (enabled or not), and `platform`. */
export function registerMembershipModules(names: readonly string[]): void {
  for (const n of names) membershipModules.add(n);
}

export const MEMBERSHIP_MODULES = (): readonly string[] => [...membershipModules];

export type Memberships = Record<string, number>;

export interface Account {
  id: number;
  email: string | null;
  username: string | null;
  name: string;
  phone: string | null;
  status: 'active' | 'disabled';
  memberships: Memberships;
  created_at: string;
  updated_at: string;
}

export interface AuthState {
  active: boolean;
  sessionVersion: number;
  memberships: Memberships;
}

export function levelFor(memberships: Memberships, module: string): number {
  if (memberships[PLATFORM] === 100) return 100;
  return memberships[module] ?? 0;
}

/**
 * Every account's `id`, `name` and `email` as a relation a module's statement may join, for a row that records who
 * acted, written in the same statement as the change (as the ledger's `postingCall` is embedded). Modules name this,
 * never the `accounts` table. PostgreSQL folds the subquery into the statement: it costs nothing over a plain join.
 */
export const accountNames = sql<{
  id: number;
  name: string;
  email: string | null;
}>`(SELECT id, name, email FROM accounts)`;

const normalise = (s: string | null | undefined) => (s === undefined || s === null ? null : s.trim());

export async function findByLogin(db: Executor, login: string) {
  const l = login.trim().toLowerCase();
  return db
    .selectFrom('accounts')
    .selectAll()
    .where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb(sql`lower(email)`, '=', l), eb(sql`lower(username)`, '=', l)]))
    .executeTakeFirst();
}

export async function getAccount(db: Executor, id: number): Promise<Account | undefined> {
  const row = await db
    .selectFrom('accounts')
    .select(['id', 'email', 'username', 'name', 'phone', 'status', 'created_at', 'updated_at'])
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  return { ...row, ...stamps(row), memberships: await membershipsOf(db, id) };
}

const stamps = (r: { created_at: Date; updated_at: Date }) => ({
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

export async function membershipsOf(db: Executor, id: number): Promise<Memberships> {
  const rows = await db.selectFrom('memberships').select(['module', 'level']).where('account_id', '=', id).execute();
  return Object.fromEntries(rows.map((r) => [r.module, r.level]));
}

export async function listAccounts(db: Executor, opts: { skip: number; limit: number; search?: string }) {
  let q = db.selectFrom('accounts').where('deleted_at', 'is', null);
  if (opts.search) {
    const s = containsPattern(opts.search.toLowerCase());
    q = q.where((eb) =>
      eb.or([eb(sql`lower(email)`, 'like', s), eb(sql`lower(username)`, 'like', s), eb(sql`lower(name)`, 'like', s)]),
    );
  }
  const [rows, total] = await Promise.all([
    q
      .select(['id', 'email', 'username', 'name', 'phone', 'status', 'created_at', 'updated_at'])
      .orderBy('id')
      .offset(opts.skip)
      .limit(opts.limit)
      .execute(),
    q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  const ids = rows.map((r) => r.id);
  const members =
    ids.length === 0
      ? []
      : await db
          .selectFrom('memberships')
          .select(['account_id', 'module', 'level'])
          .where('account_id', 'in', ids)
          .execute();
  return {
    total: total.n,
    items: rows.map((r) => ({
      ...r,
      ...stamps(r),
      memberships: Object.fromEntries(members.filter((m) => m.account_id === r.id).map((m) => [m.module, m.level])),
    })),
  };
}

/** Username and status of each of these accounts (deleted ones included), without their memberships. */
export async function accountSummaries(
  db: Executor,
  ids: readonly number[],
): Promise<Map<number, { username: string | null; status: Account['status'] }>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('accounts').select(['id', 'username', 'status']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, { username: r.username, status: r.status }]));
}

/** An identifier an account signs in or is reached by. */
export type AccountIdentifier = 'username' | 'email' | 'phone';

/**
 * Whether a live account other than `exceptId` already uses `value` as its `field` (usernames and e-mails compared
 * case-insensitively, phones exactly): lets a caller name the field that is taken before it writes.
 */
export async function identifierInUse(
  db: Executor,
  field: AccountIdentifier,
  value: string,
  exceptId: number | null = null,
): Promise<boolean> {
  const row = await db
    .selectFrom('accounts')
    .select('id')
    .where((eb) =>
      field === 'phone' ? eb('phone', '=', value) : eb(eb.fn('lower', [eb.ref(field)]), '=', value.toLowerCase()),
    )
    .where('deleted_at', 'is', null)
    .$if(exceptId !== null, (qb) => qb.where('id', '!=', exceptId ?? 0))
    .executeTakeFirst();
  return row !== undefined;
}

export interface NewAccount {
  email?: string | null;
  username?: string | null;
  name: string;
  phone?: string | null;
  passwordHash?: string | null;
  memberships: Memberships;
}

export async function insertAccount(db: Executor, a: NewAccount): Promise<number> {
  const row = await db
    .insertInto('accounts')
    .values({
      email: normalise(a.email),
      username: normalise(a.username),
      name: a.name.trim(),
      phone: normalise(a.phone),
      password_hash: a.passwordHash ?? null,
      status: 'active',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await setMemberships(db, row.id, a.memberships);
  return row.id;
}

export async function setMemberships(db: Executor, id: number, memberships: Memberships): Promise<void> {
  await db.deleteFrom('memberships').where('account_id', '=', id).execute();
  const rows = Object.entries(memberships).map(([module, level]) => ({ account_id: id, module, level }));
  if (rows.length > 0) await db.insertInto('memberships').values(rows).execute();
}

/** Caches AuthState per account for a short time; `account.changed` on the bus drops an entry everywhere. */
export function createAuthStateCache(db: Executor, bus: Bus, ttlMs = 30_000) {
  const cache = new Map<number, { state: AuthState | null; until: number }>();
  // Counts invalidations: a read that started before one arrived is answered but not cached (see apikeys.ts).
  let invalidations = 0;
  bus.subscribe('account.changed', (p) => {
    invalidations++;
    cache.delete(Number(p.id));
  });
  bus.onGap(() => {
    invalidations++;
    cache.clear();
  });
  /** The cached state of account `id` (null: no such account); undefined when the database must be asked. */
  const cached = (id: number): AuthState | null | undefined => {
    const hit = cache.get(id);
    return hit && hit.until > Date.now() ? hit.state : undefined;
  };
  return {
    cached,
    async get(id: number): Promise<AuthState | null> {
      const hit = cached(id);
      if (hit !== undefined) return hit;
      const seen = invalidations;
      const row = await db
        .selectFrom('accounts')
        .select(['status', 'session_version', 'deleted_at'])
        .where('id', '=', id)
        .executeTakeFirst();
      const state: AuthState | null = row
        ? {
            active: row.status === 'active' && row.deleted_at === null,
            sessionVersion: row.session_version,
            memberships: await membershipsOf(db, id),
          }
        : null;
      if (seen === invalidations) cache.set(id, { state, until: Date.now() + ttlMs });
      return state;
    },
    changed: (id: number) => bus.publish('account.changed', { id }),
  };
}
