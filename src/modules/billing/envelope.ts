// Billing's response style (seed 003, CONTRACTS §4): the platform's `{detail, status, error_code}`, with the
// document's validation message.
import { type Envelope, platformEnvelope } from '../../core/http/envelopes.ts';
import { AppError } from '../../core/http/errors.ts';

export const billingEnvelope: Envelope = {
  ...platformEnvelope,
  name: 'billing',
  error: (err, ctx) =>
    platformEnvelope.error(
      err.details && err.code === 'VALIDATION_ERROR'
        ? new AppError(err.code, 'Validation failed', { details: err.details })
        : err,
      ctx,
    ),
};
