// What the IM3 API shows of an account, a package and a purchase (the `data` of its answers).
import type { Executor } from '../../core/db/tables.ts';
import type { Account } from '../../core/identity/accounts.ts';
import { localTime } from '../../core/time.ts';
import { findPackage, type Im3Status, type Package, statusHistory, type Transaction } from './repo.ts';

/** The account; `token_id` is the marker of a linked operator session (null when there is none), never a secret. */
export const profileView = (a: Account, tokenId: string | null) => ({
  id: a.id,
  username: a.username,
  email: a.email,
  phone_number: a.phone,
  token_id: tokenId,
  created_at: a.created_at,
  updated_at: a.updated_at,
});

export const packageView = (p: Package) => ({
  id: p.id,
  pvr_code: p.pvr_code,
  keyword: p.keyword,
  discount_price: p.discount_price,
  normal_price: p.normal_price,
  package_name: p.package_name,
  created_at: localTime(p.created_at),
  updated_at: localTime(p.updated_at),
});

export const packageDetail = (p: Package) => ({
  id: p.id,
  package_name: p.package_name,
  discount_price: p.discount_price,
});

export type StatusNames = 'document' | 'original';

/**
 * A status as the client asked for it (`IM3_STATUS_NAMES`): the document's own, or the original code's, which wrote
 * PENDING, PROCESSING while it worked, SUCCESS once the QR code was issued, or FAILED.
 */
export function statusName(status: Im3Status, names: StatusNames): string {
  if (names === 'document') return status;
  switch (status) {
    case 'PENDING':
      return 'PENDING';
    case 'PAYMENT_INITIATED':
    case 'COMPLETED':
      return 'SUCCESS';
    case 'FAILED':
    case 'CANCELLED':
      return 'FAILED';
    default:
      return 'PROCESSING';
  }
}

/**
 * A purchase with its package (both the document's `package_detail` and the original's whole `package`), and its
 * status history when asked; read through `db` (a snapshot's transaction). The statuses are named as `names` says;
 * in the original's names, consecutive entries of one name are one entry.
 */
export async function transactionView(db: Executor, tx: Transaction, names: StatusNames, withHistory = true) {
  const pkg = await findPackage(db, tx.package_id);
  const history = withHistory
    ? (await statusHistory(db, tx.id))
        .map((e) => ({ status: statusName(e.status, names), at: localTime(e.created_at) }))
        .filter((e, i, all) => i === 0 || all[i - 1]?.status !== e.status)
    : undefined;
  return {
    id: tx.id,
    user_id: tx.account_id,
    package_id: tx.package_id,
    task_id: tx.task_id,
    status: statusName(tx.status, names),
    qr_code: tx.qr_code,
    qr_payload: tx.qr_payload,
    amount: tx.amount,
    phone_number: tx.phone,
    package_detail: pkg ? packageDetail(pkg) : null,
    package: pkg ? packageView(pkg) : null,
    error_message: tx.error_message,
    ...(history ? { status_history: history } : {}),
    created_at: localTime(tx.created_at),
    updated_at: localTime(tx.updated_at),
  };
}
