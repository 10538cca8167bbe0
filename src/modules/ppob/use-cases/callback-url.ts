// Where Loket POSTs each final status of a reseller's purchases (https only in production).
import { AppError } from '../../../core/http/errors.ts';
import { setCallbackUrl as store } from '../repo/resellers.ts';
import type { PpobDeps } from '../wire.ts';

export async function setCallbackUrl(d: Pick<PpobDeps, 'core' | 'db' | 'now'>, accountId: number, url: string) {
  if (d.core.config.env === 'production' && !url.startsWith('https://')) {
    throw new AppError('VALIDATION_ERROR', 'URL callback harus https', { details: { url: ['must use https'] } });
  }
  await store(d.db, accountId, url, d.now());
}
