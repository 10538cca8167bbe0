// The photobox module's tables, as Kysely sees them, and the row types the rest of the module uses.

import type { Generated, Selectable } from 'kysely';
import { containsPattern } from '../../../core/db/like.ts';
import type { Timestamp } from '../../../core/db/tables.ts';

export type TransactionStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'EXPIRED';
export const STATUSES: readonly TransactionStatus[] = ['PENDING', 'COMPLETED', 'FAILED', 'EXPIRED'];

interface PhotoboxLocationsTable {
  ml_id: Generated<number>;
  ml_name: string;
  ml_address: string | null;
  ml_machine_code: string | null;
  ml_is_active: Generated<boolean>;
  ml_created_at: Timestamp;
  ml_updated_at: Timestamp;
}

interface PhotoboxPricesTable {
  mp_id: Generated<number>;
  mp_name: string;
  mp_amount: number;
  mp_quota: number | null;
  mp_is_active: Generated<boolean>;
  mp_created_at: Timestamp;
  mp_updated_at: Timestamp;
}

interface PhotoboxTransactionsTable {
  tr_id: Generated<number>;
  tr_external_id: string;
  tr_location_id: number;
  tr_price_id: number | null;
  tr_account_id: number | null;
  tr_amount: number;
  tr_status: Generated<TransactionStatus>;
  tr_qris_string: string | null;
  tr_qris_url: string | null;
  tr_xendit_id: string | null;
  tr_email: string | null;
  tr_send_invoice: Generated<boolean>;
  tr_expired_at: Timestamp;
  tr_paid_at: Timestamp | null;
  tr_email_sent_at: Timestamp | null;
  tr_photos_expire_at: Timestamp | null;
  tr_created_at: Timestamp;
  tr_updated_at: Timestamp;
}

interface PhotoboxPhotosTable {
  ph_id: Generated<number>;
  ph_transaction_id: number;
  ph_token: string;
  ph_storage_key: string;
  ph_content_type: string;
  ph_size_bytes: number;
  ph_created_at: Timestamp;
  ph_deleted_at: Timestamp | null;
}

interface PhotoboxKiosksTable {
  account_id: number;
  name: string;
  created_by: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

declare module '../../../core/db/tables.ts' {
  interface Tables {
    photobox_locations: PhotoboxLocationsTable;
    photobox_prices: PhotoboxPricesTable;
    photobox_transactions: PhotoboxTransactionsTable;
    photobox_photos: PhotoboxPhotosTable;
    photobox_kiosks: PhotoboxKiosksTable;
  }
}

export type Location = Selectable<PhotoboxLocationsTable>;
export type Price = Selectable<PhotoboxPricesTable>;
export type Transaction = Selectable<PhotoboxTransactionsTable>;
export type Photo = Selectable<PhotoboxPhotosTable>;
export type Kiosk = Selectable<PhotoboxKiosksTable>;

/** `%term%` for LIKE on a lower-cased column: the term trimmed and lower-cased, its own % and _ taken literally. */
export const likeTerm = (s: string) => containsPattern(s.trim().toLowerCase());

/** A unique index refused the row (PostgreSQL 23505). */
export const isUniqueViolation = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && 'code' in err && err.code === '23505';

/** The constraint a database error names ('' when it names none). */
export const violatedConstraint = (err: unknown): string =>
  typeof err === 'object' && err !== null && 'constraint' in err ? String(err.constraint ?? '') : '';
