// Kiosk credentials. A kiosk is an account with photobox level 1 and one photobox API key, shown once; accounts and
// keys belong to the core (its account functions and API-key service), the module keeps only the kiosk's name.
import { randomBytes } from 'node:crypto';
import { type Actor, recordAction } from '../../../core/audit/audit.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { accountSummaries, insertAccount } from '../../../core/identity/accounts.ts';
import { MODULE } from '../constants.ts';
import { MESSAGES } from '../messages.ts';
import * as repo from '../repo/index.ts';
import { time } from '../views.ts';
import type { PhotoboxDeps } from '../wire.ts';

type KioskDeps = Pick<PhotoboxDeps, 'db' | 'now' | 'identity'>;

export async function createKiosk(deps: KioskDeps, name: string, actor: Actor) {
  const { db, now } = deps;
  const clean = name.trim();
  const username = `kiosk_${randomBytes(6).toString('hex')}`;
  try {
    const r = await withTransaction(db, async (trx) => {
      const accountId = await insertAccount(trx, { username, name: `Kiosk ${clean}`, memberships: { [MODULE]: 1 } });
      await repo.insertKiosk(trx, { account_id: accountId, name: clean, created_by: actor.accountId }, now());
      const keys = await deps.identity.apiKeys.issue(trx, accountId, MODULE);
      await recordAction(trx, actor, 'photobox.kiosk.created', accountId, now(), {
        before: undefined,
        after: { name: clean, username },
      });
      return { accountId, keys };
    });
    return { kiosk_id: r.accountId, name: clean, api_key: r.keys.apiKey, key_prefix: r.keys.displayPrefix };
  } catch (err) {
    if (repo.isUniqueViolation(err)) throw new AppError('CONFLICT', MESSAGES.kioskNameTaken);
    throw err;
  }
}

/** The kiosks with their accounts' state and their live keys' prefixes (never a secret). */
export async function listKiosks(deps: Pick<PhotoboxDeps, 'db' | 'identity'>) {
  const kiosks = await repo.listKiosks(deps.db);
  const ids = kiosks.map((k) => k.account_id);
  const [accounts, keys] = await Promise.all([
    accountSummaries(deps.db, ids),
    deps.identity.apiKeys.liveKeys(deps.db, ids, MODULE),
  ]);
  return kiosks.flatMap((k) => {
    const account = accounts.get(k.account_id);
    if (!account) return [];
    const key = keys.get(k.account_id);
    return [
      {
        kiosk_id: k.account_id,
        name: k.name,
        username: account.username,
        active: account.status === 'active',
        key_prefix: key?.displayPrefix ?? null,
        key_created_at: key ? time(key.createdAt) : null,
        created_at: time(k.created_at),
      },
    ];
  });
}

/** A new key for the kiosk; the old one stops working at once, on every instance. */
export async function rotateKioskKey(deps: KioskDeps, id: number, actor: Actor) {
  const r = await withTransaction(deps.db, async (trx) => {
    const kiosk = await repo.getKiosk(trx, id);
    if (!kiosk) throw new AppError('NOT_FOUND', MESSAGES.kioskNotFound);
    const keys = await deps.identity.apiKeys.issue(trx, id, MODULE);
    await recordAction(trx, actor, 'photobox.kiosk.key_rotated', id, deps.now(), {});
    return { kiosk, keys };
  });
  await deps.identity.apiKeys.announce(r.keys.revokedHashes);
  return { kiosk_id: id, name: r.kiosk.name, api_key: r.keys.apiKey, key_prefix: r.keys.displayPrefix };
}

/** Removes the kiosk: its account is disabled (accounts are never erased) and its key revoked. */
export async function deleteKiosk(deps: KioskDeps, id: number, actor: Actor) {
  const { db } = deps;
  const kiosk = await repo.getKiosk(db, id);
  if (!kiosk) throw new AppError('NOT_FOUND', MESSAGES.kioskNotFound);
  const hashes = await deps.identity.apiKeys.liveHashes(db, id);
  await deps.identity.service.deleteAccount(id, actor.accountId, actor.origin);
  await repo.deleteKiosk(db, id);
  await deps.identity.apiKeys.announce(hashes);
  return { kiosk_id: id, name: kiosk.name };
}
