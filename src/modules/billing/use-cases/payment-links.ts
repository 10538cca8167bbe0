// Payment links: a Xendit invoice (or the simulator's hosted page) for an invoice waiting for payment, made through
// the payments core. The reference is recorded before the provider is called (so a payment through it always finds
// its invoice), the provider is called outside any transaction, and the link is stored only if the invoice is
// still payable when the answer comes. Each brand may have a Xendit account of its own (CONTRACTS §4).
import { randomBytes } from 'node:crypto';
import type { Core } from '../../../core/context.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import * as brands from '../repo/brands.ts';
import * as invoices from '../repo/invoices.ts';
import { LINK_CLOSE_JOB, mustGet } from './invoices.ts';

const PAYABLE: invoices.InvoiceStatus[] = ['Menunggu Pembayaran', 'Jatuh Tempo'];
/** A link stays valid this long (Xendit's invoice duration). */
const LINK_TTL_SECONDS = 30 * 24 * 3600;

export function createPaymentLinks(core: Pick<Core, 'database' | 'payments' | 'now' | 'jobs'>) {
  const { db } = core.database;

  return {
    /**
     * Makes a link unless the invoice has a live one (`force` makes a new one anyway, e.g. after it expired).
     * Answers the invoice as it is afterwards.
     */
    async ensure(invoiceId: number, opts: { force?: boolean } = {}): Promise<invoices.Invoice> {
      const inv = await mustGet(db, invoiceId);
      if (!PAYABLE.includes(inv.status_invoice)) {
        if (opts.force) {
          throw new AppError('CONFLICT', `Invoice ${inv.nomor_invoice} is ${inv.status_invoice}: nothing to pay`);
        }
        return inv;
      }
      const live =
        inv.payment_link && inv.payment_link_expires_at && new Date(inv.payment_link_expires_at) > core.now();
      if (live && !opts.force) return inv;
      if (inv.total_harga <= 0) return inv;
      const reference = `${inv.nomor_invoice}-${randomBytes(4).toString('hex').toUpperCase()}`;
      // The brand's own Xendit account (XENDIT_API_KEY_<xendit_key_name>, else the brand's id) when configured;
      // the payments core falls back to the platform's account, else the simulator.
      const brand = inv.id_brand ? await brands.getBrand(db, inv.id_brand) : undefined;
      await invoices.recordPaymentLink(db, reference, inv.id, core.now());
      const intent = await core.payments.createInvoice({
        account: brand ? (brand.xendit_key_name ?? brand.id_brand) : undefined,
        module: 'billing',
        reference,
        amount: inv.total_harga,
        description: `${inv.nomor_invoice} (${inv.periode})`,
        payerEmail: inv.email ?? undefined,
        ttlSeconds: LINK_TTL_SECONDS,
      });
      if (intent.status === 'FAILED' || !intent.invoice_url) {
        throw new AppError('EXTERNAL_SERVICE_ERROR', 'The payment provider could not create the payment link');
      }
      return withTransaction(db, async (trx) => {
        const now = await mustGet(trx, inv.id, true);
        if (PAYABLE.includes(now.status_invoice)) {
          // A link it replaces (expired, or replaced on purpose) is closed, so only the new one can be paid.
          if (now.payment_reference && now.payment_reference !== reference) {
            await core.jobs.enqueue(trx, LINK_CLOSE_JOB, { reference: now.payment_reference });
          }
          await invoices.updateInvoice(
            trx,
            inv.id,
            {
              payment_reference: reference,
              payment_link: intent.invoice_url,
              payment_link_expires_at: intent.expires_at,
            },
            core.now(),
          );
        }
        return mustGet(trx, inv.id);
      });
    },

    /**
     * Closes the link of `reference` at the provider (the job LINK_CLOSE_JOB). A link paid first is left to its
     * payment, which settles the invoice or becomes a late payment to refund; a provider that cannot be reached
     * makes the job try again.
     */
    async close(reference: string): Promise<void> {
      try {
        await core.payments.cancel(reference);
      } catch (err) {
        if (err instanceof AppError && (err.code === 'CONFLICT' || err.code === 'NOT_FOUND')) return;
        throw err;
      }
    },
  };
}

export type PaymentLinks = ReturnType<typeof createPaymentLinks>;
