// What the IM3 API shows of an account, a package and a purchase (the `data` of its answers).
import type { Executor } from '../../core/db/tables.ts';
import type { Account } from '../../core/identity/accounts.ts';
import { findPackage, type Package, statusHistory, type Transaction } from './repo.ts';

export const profileView = (a: Account) => ({
  id: a.id,
  username: a.username,
  email: a.email,
  phone_number: a.phone,
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
  created_at: new Date(p.created_at).toISOString(),
  updated_at: new Date(p.updated_at).toISOString(),
});

export const packageDetail = (p: Package) => ({
  id: p.id,
  package_name: p.package_name,
  discount_price: p.discount_price,
});

/** A purchase with its package, and its status history when asked; read through `db` (a snapshot's transaction). */
export async function transactionView(db: Executor, tx: Transaction, withHistory = true) {
  const pkg = await findPackage(db, tx.package_id);
  return {
    id: tx.id,
    user_id: tx.account_id,
    package_id: tx.package_id,
    task_id: tx.task_id,
    status: tx.status,
    qr_code: tx.qr_code,
    qr_payload: tx.qr_payload,
    amount: tx.amount,
    phone_number: tx.phone,
    package_detail: pkg ? packageDetail(pkg) : null,
    error_message: tx.error_message,
    ...(withHistory
      ? {
          status_history: (await statusHistory(db, tx.id)).map((e) => ({
            status: e.status,
            at: new Date(e.created_at).toISOString(),
          })),
        }
      : {}),
    created_at: new Date(tx.created_at).toISOString(),
    updated_at: new Date(tx.updated_at).toISOString(),
  };
}
