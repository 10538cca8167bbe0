// The PPOB module's tables (migrations/0011_ppob.sql and later) and their row types.
import type { Generated, Selectable } from 'kysely';
import type { Timestamp } from '../../../core/db/tables.ts';

interface PpobProductsTable {
  id: Generated<number>;
  kode_produk: string;
  nama: string;
  plp: string | null;
  plp_nomor: string | null;
  harga: number;
  deskripsi: string | null;
  provider_sku: string | null;
  kategori: string | null;
  brand: string | null;
  aktif: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}
interface PpobProfilesTable {
  account_id: number;
  hp: string | null;
  is_verified: Generated<boolean>;
  callback_url: string | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}
interface PpobTransactionsTable {
  id: Generated<number>;
  trx_id: string;
  account_id: number;
  produk_id: number;
  kode_produk: string;
  nomor_tujuan: string;
  status: Generated<'pending' | 'sukses' | 'gagal'>;
  hasil_eksekusi: string | null;
  nama_produk: string;
  nama_user: string | null;
  email_user: string | null;
  harga: number;
  sisa_saldo: number | null;
  provider: string;
  provider_code: string | null;
  serial_number: string | null;
  checks: Generated<number>;
  waktu: Timestamp;
  next_check_at: Timestamp | null;
  finished_at: Timestamp | null;
  /** The clearing row its purchase was posted to (NULL before migration 0016: the row its trx_id hashes to). */
  clearing_shard: number | null;
}
interface PpobDepositsTable {
  id: Generated<number>;
  deposit_id: string;
  account_id: number;
  nominal: number;
  status: Generated<string>;
  created_at: Timestamp;
  paid_at: Timestamp | null;
}
interface PpobCallbacksTable {
  id: Generated<number>;
  account_id: number;
  trx_id: string;
  url: string;
  webhook_id: string;
  payload: unknown;
  attempts: Generated<number>;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Timestamp | null;
  created_at: Timestamp;
}
declare module '../../../core/db/tables.ts' {
  interface Tables {
    ppob_products: PpobProductsTable;
    ppob_profiles: PpobProfilesTable;
    ppob_transactions: PpobTransactionsTable;
    ppob_deposits: PpobDepositsTable;
    ppob_callbacks: PpobCallbacksTable;
  }
}

export type Product = Selectable<PpobProductsTable>;
export type PpobTransaction = Selectable<PpobTransactionsTable>;
export type Deposit = Selectable<PpobDepositsTable>;
export type Profile = Selectable<PpobProfilesTable>;
export type ClientCallback = Selectable<PpobCallbacksTable>;
