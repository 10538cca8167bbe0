// Billing's response style (seed 003, CONTRACTS §4): the platform's `{detail, status, error_code}`, with the
// document's validation message. A CSV import's refusal lists its problems per row: `{row, field, message}`.
import { type Envelope, platformEnvelope } from '../../core/http/envelopes.ts';
import { AppError } from '../../core/http/errors.ts';

export interface RowProblem {
  /** The record's number in the file, the header being 1 (as a spreadsheet numbers its rows). */
  row: number;
  field: string;
  message: string;
}

/** A 422 whose problems belong to rows of an uploaded file. */
export class RowErrors extends AppError {
  readonly rows: RowProblem[];
  constructor(rows: RowProblem[]) {
    super('VALIDATION_ERROR', 'Validation failed');
    this.rows = rows;
  }
}

export const billingEnvelope: Envelope = {
  ...platformEnvelope,
  name: 'billing',
  error: (err, ctx) => {
    if (err instanceof RowErrors) {
      return { detail: { message: err.message, errors: err.rows }, status: 'error', error_code: err.code };
    }
    return platformEnvelope.error(
      err.details && err.code === 'VALIDATION_ERROR'
        ? new AppError(err.code, 'Validation failed', { details: err.details })
        : err,
      ctx,
    );
  },
};
