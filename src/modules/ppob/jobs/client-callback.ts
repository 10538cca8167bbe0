// The job that POSTs a final status to the reseller (queued by use-cases/client-callback.ts): signed per Standard
// Webhooks with the reseller's private key, retried with backoff until the reseller answers 2xx.
import { createHmac } from 'node:crypto';
import type { JobDefinition } from '../../../core/jobs/jobs.ts';
import { MODULE } from '../ledger.ts';
import { findCallback, recordCallbackAttempt } from '../repo/resellers.ts';
import { CLIENT_CALLBACK_JOB } from '../use-cases/client-callback.ts';
import type { PpobDeps } from '../wire.ts';

type Deps = Pick<PpobDeps, 'core' | 'db' | 'now'>;

export async function deliverCallback(d: Deps, id: number): Promise<void> {
  const { db, now } = d;
  const cb = await findCallback(db, id);
  if (!cb || cb.delivered_at) return;
  const secret = await d.core.identity.apiKeys.privateKey(db, cb.account_id, MODULE);
  if (!secret) return; // the reseller has no live key pair any more: nothing to sign with
  const body = JSON.stringify(cb.payload);
  const timestamp = Math.floor(now().getTime() / 1000).toString();
  const signature = createHmac('sha256', secret).update(`${cb.webhook_id}.${timestamp}.${body}`).digest('base64');
  let status: number | null = null;
  let error: string | null = null;
  try {
    // Through the core's guard: the address is checked again at delivery (DNS may have changed since the URL was
    // saved), and a redirect is an answer, never followed.
    const res = await d.core.outbound.post(
      cb.url,
      body,
      {
        'content-type': 'application/json',
        'user-agent': 'Loket-PPOB-Callback/1',
        'webhook-id': cb.webhook_id,
        'webhook-timestamp': timestamp,
        'webhook-signature': `v1,${signature}`,
      },
      10_000,
    );
    status = res.status;
  } catch (err) {
    error = (err instanceof Error ? err.message : String(err)).slice(0, 300);
  }
  const ok = status !== null && status >= 200 && status < 300;
  await recordCallbackAttempt(db, id, { status, error, deliveredAt: ok ? now() : null });
  if (!ok) throw new Error(`callback ${cb.webhook_id} not accepted (${status ?? error})`);
}

export const clientCallbackJob = (d: Deps): JobDefinition<{ id: number }> => ({
  name: CLIENT_CALLBACK_JOB,
  retryLimit: 8,
  retryDelay: 10,
  handler: (job) => deliverCallback(d, job.data.id),
});
