// The Photobox document's own webhook body: `{external_id, status, xendit_id?}` with no amount. Accepted at the
// payments webhook beside Xendit's real callbacks; a body that carries an amount but no `xendit_id` is Xendit's
// invoice callback and is left to the core.
import { type CallbackReader, mapStatus, str } from '../../core/payments/callbacks.ts';

export const readFlatCallback: CallbackReader = (b) => {
  const reference = str(b.external_id);
  const status = mapStatus(str(b.status));
  if (!reference || !status) return undefined;
  if (str(b.xendit_id) === undefined && (b.amount !== undefined || b.paid_amount !== undefined)) return undefined;
  return {
    shape: 'flat',
    reference,
    status,
    amount: undefined,
    providerPaymentId: str(b.xendit_id),
    paidAt: undefined,
  };
};
