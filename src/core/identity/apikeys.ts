// API keys per account and module (resellers' scripts, kiosks). Lookups are served from an in-process cache keyed by the key's hash;
// rotating or revoking a key publishes its hash on the bus so every instance forgets it at once.
import type { Kysely } from 'kysely';
import { open, seal } from '../crypto.ts';
import type { Executor, Tables } from '../db/tables.ts';
import type { Bus } from '../notify/bus.ts';
import { hashApiKey, isWellFormedApiKey, newApiKey, newPrivateKey } from './keys.ts';

export interface KeyOwner {
  accountId: number;
  keyId: number;
}

export interface IssuedKeys {
  apiKey: string;
  privateKey: string;
  keyId: number;
  displayPrefix: string;
}

export function createApiKeys(deps: { db: Kysely<Tables>; bus: Bus; sealKey: Buffer; ttlMs?: number }) {
  const ttl = deps.ttlMs ?? 5 * 60_000;
  // By the key's hash; an entry holds the module the key was issued for, and answers only for that module.
  const cache = new Map<string, { owner: KeyOwner; module: string; until: number }>();
  /** The cached owner of a live key of `module`; undefined when the database must be asked. */
  const cachedByHash = (hash: string, module: string): KeyOwner | undefined => {
    const hit = cache.get(hash);
    return hit && hit.module === module && hit.until > Date.now() ? hit.owner : undefined;
  };
  const cached = (key: string, module: string): KeyOwner | undefined =>
    key.length > 64 ? undefined : cachedByHash(hashApiKey(key), module);
  // Counts invalidations: a lookup that read the database before one arrived does not cache what it read (the
  // key may have been revoked just after that read, and would otherwise stay cached for the whole TTL).
  let invalidations = 0;
  deps.bus.subscribe('apikey.revoked', (p) => {
    invalidations++;
    for (const h of (p.hashes as string[]) ?? []) cache.delete(h);
  });
  deps.bus.onGap(() => {
    invalidations++;
    cache.clear();
  });
  deps.bus.subscribe('account.changed', (p) => {
    invalidations++;
    const id = Number(p.id);
    for (const [h, v] of cache) if (v.owner.accountId === id) cache.delete(h);
  });

  return {
    /**
     * Issues a new key pair for the account and module, revoking the ones it had (rotation). Runs on `db`: pass
     * the caller's transaction. Call `announce` with the result after the transaction commits.
     */
    async issue(db: Executor, accountId: number, module: string): Promise<IssuedKeys & { revokedHashes: string[] }> {
      // Rotations of one account wait for each other (the account row is locked until the caller commits), so
      // each one revokes the key the one before it issued: never two live keys.
      await db.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().execute();
      const revokedRows = await db
        .updateTable('api_keys')
        .set({ revoked_at: new Date() })
        .where('account_id', '=', accountId)
        .where('module', '=', module)
        .where('revoked_at', 'is', null)
        .returning('key_hash')
        .execute();
      const k = newApiKey();
      const privateKey = newPrivateKey();
      const row = await db
        .insertInto('api_keys')
        .values({
          account_id: accountId,
          module,
          display_prefix: k.displayPrefix,
          key_hash: k.hash,
          private_key_enc: seal(deps.sealKey, privateKey),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return {
        apiKey: k.key,
        privateKey,
        keyId: row.id,
        displayPrefix: k.displayPrefix,
        revokedHashes: revokedRows.map((r) => r.key_hash),
      };
    },

    /** Tells every instance to forget revoked keys (after the revoking transaction committed). */
    async announce(revokedHashes: string[]): Promise<void> {
      if (revokedHashes.length > 0) await deps.bus.publish('apikey.revoked', { hashes: revokedHashes });
    },

    cached,

    /** The owner of a live key of `module`, or null. Malformed keys are refused without touching the database. */
    async authenticate(key: string, module: string): Promise<KeyOwner | null> {
      if (key.length > 64) return null;
      const hash = hashApiKey(key);
      const hit = cachedByHash(hash, module); // only well-formed keys are ever cached
      if (hit) return hit;
      if (!isWellFormedApiKey(key)) return null;
      const now = Date.now();
      const seen = invalidations;
      const row = await deps.db
        .selectFrom('api_keys')
        .innerJoin('accounts', 'accounts.id', 'api_keys.account_id')
        .select(['api_keys.id', 'api_keys.account_id'])
        .where('api_keys.key_hash', '=', hash)
        .where('api_keys.module', '=', module)
        .where('api_keys.revoked_at', 'is', null)
        .where('accounts.status', '=', 'active')
        .where('accounts.deleted_at', 'is', null)
        .executeTakeFirst();
      if (!row) return null;
      const owner = { accountId: row.account_id, keyId: row.id };
      if (seen === invalidations) cache.set(hash, { owner, module, until: now + ttl });
      return owner;
    },

    /** The live key of `module` of each of these accounts: its display prefix and when it was issued. */
    async liveKeys(
      db: Executor,
      accountIds: readonly number[],
      module: string,
    ): Promise<Map<number, { displayPrefix: string; createdAt: Date }>> {
      if (accountIds.length === 0) return new Map();
      const rows = await db
        .selectFrom('api_keys')
        .select(['account_id', 'display_prefix', 'created_at'])
        .where('account_id', 'in', accountIds)
        .where('module', '=', module)
        .where('revoked_at', 'is', null)
        .orderBy('id')
        .execute();
      return new Map(rows.map((r) => [r.account_id, { displayPrefix: r.display_prefix, createdAt: r.created_at }]));
    },

    /** The hashes of an account's live keys, of every module (to `announce` once they are revoked). */
    async liveHashes(db: Executor, accountId: number): Promise<string[]> {
      const rows = await db
        .selectFrom('api_keys')
        .select('key_hash')
        .where('account_id', '=', accountId)
        .where('revoked_at', 'is', null)
        .execute();
      return rows.map((r) => r.key_hash);
    },

    /** The live private key of an account's module key (to sign its outgoing webhooks). */
    async privateKey(db: Executor, accountId: number, module: string): Promise<string | null> {
      const row = await db
        .selectFrom('api_keys')
        .select('private_key_enc')
        .where('account_id', '=', accountId)
        .where('module', '=', module)
        .where('revoked_at', 'is', null)
        .orderBy('id', 'desc')
        .executeTakeFirst();
      return row ? open(deps.sealKey, row.private_key_enc) : null;
    },
  };
}

export type ApiKeys = ReturnType<typeof createApiKeys>;
