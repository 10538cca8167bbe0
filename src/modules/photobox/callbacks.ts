// The Photobox document's own webhook body: `{external_id, status, xendit_id?}` with no amount. Accepted at the
// payments webhook beside Xendit's real callbacks; a body that carries an amount but no `xendit_id` is Xendit's
// invoice callback and is left to the core. When the flat body does carry an amount (or a currency), it is compared
// like any other: the document's body settles on the callback token alone only because it has no amount to check.
import { amountOf, type CallbackReader, mapStatus, str } from '../../core/payments/callbacks.ts';

export const readFlatCallback: CallbackReader = (b) => {
  const reference = str(b.external_id);
  const status = mapStatus(str(b.status));
  if (!reference || !status) return undefined;
  if (str(b.xendit_id) === undefined && (b.amount !== undefined || b.paid_amount !== undefined)) return undefined;
  return {
    shape: 'flat',
    reference,
    status,
    amount: amountOf(b.amount ?? b.paid_amount),
    currency: str(b.currency),
    providerPaymentId: str(b.xendit_id),
    paidAt: undefined,
  };
};
