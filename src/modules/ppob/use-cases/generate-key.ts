// /generate-key: a new API key pair; the old one stops working at once, on every instance. Shown once.
import { withTransaction } from '../../../core/db/transaction.ts';
import { MODULE } from '../ledger.ts';
import type { PpobDeps } from '../wire.ts';

export async function rotateKeys(d: Pick<PpobDeps, 'core' | 'db'>, accountId: number) {
  const keys = await withTransaction(d.db, (trx) => d.core.identity.apiKeys.issue(trx, accountId, MODULE));
  await d.core.identity.apiKeys.announce(keys.revokedHashes);
  return keys;
}
