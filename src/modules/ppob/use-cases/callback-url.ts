// Where Loket POSTs each final status of a reseller's purchases (https only in production), and how those
// deliveries went.
import { AppError } from '../../../core/http/errors.ts';
import { OutboundRefused, URL_PROBLEMS } from '../../../core/http/safe-url.ts';
import { localTime, localTimeOrNull } from '../../../core/time.ts';
import { callbackLog, profileOf, setCallbackUrl as store } from '../repo/resellers.ts';
import type { PpobDeps } from '../wire.ts';

export async function setCallbackUrl(d: Pick<PpobDeps, 'core' | 'db' | 'now'>, accountId: number, url: string) {
  if (d.core.config.env === 'production' && !url.startsWith('https://')) {
    throw new AppError('VALIDATION_ERROR', 'URL callback harus https', { details: { url: ['must use https'] } });
  }
  try {
    await d.core.outbound.check(url);
  } catch (err) {
    if (!(err instanceof OutboundRefused)) throw err;
    throw new AppError('VALIDATION_ERROR', 'URL callback tidak diizinkan: harus alamat publik', {
      details: { url: [URL_PROBLEMS[err.problem]] },
    });
  }
  await store(d.db, accountId, url, d.now());
}

/** The callback URL and the last 100 deliveries. */
export async function callbackSettings(d: Pick<PpobDeps, 'db'>, accountId: number) {
  const [profile, log] = await Promise.all([profileOf(d.db, accountId), callbackLog(d.db, accountId)]);
  return {
    url: profile?.callback_url ?? null,
    deliveries: log.map((c) => ({
      ...c,
      delivered_at: localTimeOrNull(c.delivered_at),
      created_at: localTime(c.created_at),
    })),
  };
}
