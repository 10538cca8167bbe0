// Top-ups by QRIS: a deposit row and a payment intent; when the payments core reports the payment (in its own
// transaction), the wallet is credited from the QRIS cash account, once.
import type { Trx } from '../../../core/db/tables.ts';
import type { Claim, StoredResponse } from '../../../core/http/idempotency.ts';
import type { PaymentIntent } from '../../../core/payments/service.ts';
import { localTime, localTimeOrNull } from '../../../core/time.ts';
import { ppobOk } from '../envelope.ts';
import { newId } from '../ids.ts';
import { CASH_QRIS, MODULE, postOrFail, wallet } from '../ledger.ts';
import { depositOf, insertDeposit, lockDeposit, setDepositStatus } from '../repo/resellers.ts';
import type { PpobDeps } from '../wire.ts';

export const DEPOSIT_TTL_MS = 15 * 60_000;

type Deps = Pick<PpobDeps, 'core' | 'db' | 'now'>;

function depositView(
  dep: {
    deposit_id: string;
    nominal: number;
    status: string;
    created_at: Date | string;
    paid_at: Date | string | null;
  },
  intent: PaymentIntent | undefined,
) {
  return {
    id: dep.deposit_id,
    nominal: dep.nominal,
    status: intent?.status ?? dep.status,
    qris_string: intent?.qr_string ?? null,
    qr_image_url: intent?.qr_string ? `/payments/${dep.deposit_id}/qr.png` : null,
    expired_at: localTimeOrNull(intent?.expires_at),
    paid_at: localTimeOrNull(dep.paid_at),
    created_at: localTime(dep.created_at),
  };
}

export async function createDeposit(
  d: Deps,
  accountId: number,
  nominal: number,
  claim: Claim | undefined,
): Promise<StoredResponse> {
  const depositId = newId('DEP', 24);
  await insertDeposit(d.db, { depositId, accountId, nominal, at: d.now() });
  const intent = await d.core.payments.createQr({
    module: MODULE,
    reference: depositId,
    amount: nominal,
    ttlMs: DEPOSIT_TTL_MS,
  });
  const response: StoredResponse = {
    status: 201,
    body: ppobOk(
      depositView({ deposit_id: depositId, nominal, status: 'PENDING', created_at: d.now(), paid_at: null }, intent),
      'Silakan bayar QRIS berikut; saldo bertambah setelah pembayaran diterima.',
      201,
    ),
  };
  if (claim) await claim.complete(d.db, response);
  return response;
}

/** One of the caller's deposits, with its payment's state; undefined when it is not theirs. */
export async function depositStatus(d: Deps, accountId: number, depositId: string) {
  const dep = await depositOf(d.db, accountId, depositId);
  if (!dep) return undefined;
  return depositView(dep, await d.core.payments.find(depositId));
}

/** The payments core's report on a deposit's payment, inside its transaction. */
export async function depositPaid(d: Pick<PpobDeps, 'now'>, trx: Trx, intent: PaymentIntent): Promise<void> {
  const dep = await lockDeposit(trx, intent.reference);
  if (dep?.status !== 'PENDING') return;
  if (intent.status === 'COMPLETED') {
    await postOrFail(trx, { kind: 'ppob.deposit', reference: dep.deposit_id, at: d.now() }, [
      { account: CASH_QRIS, amount: -dep.nominal },
      { account: wallet(dep.account_id), amount: dep.nominal },
    ]);
  }
  await setDepositStatus(
    trx,
    dep.id,
    intent.status,
    intent.status === 'COMPLETED' ? (intent.paid_at ?? d.now()) : null,
  );
}
