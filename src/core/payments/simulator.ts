// The built-in payment provider used when no Xendit key is configured. Its QR codes are valid QRIS payloads
// (any QRIS reader parses them; nothing is charged) and it "pays" only when asked through /_dev/payments, by
// building the very callback Xendit would send. State lives in memory: after a restart the database still knows
// every payment, and a code that was not paid before the restart can be paid again through the dev route.
import { createHash, randomBytes } from 'node:crypto';
import type { Invoice, InvoiceRequest, PaymentGateway, QrPayment, QrPaymentRequest } from './gateway.ts';
import { GatewayError } from './gateway.ts';
import { buildQris } from './qris.ts';

/** QRIS limits the reference label (tag 62-05) to 25 characters; longer references are shortened by hash. */
export function qrisReference(reference: string): string {
  if (/^[A-Za-z0-9-]{1,25}$/.test(reference)) return reference;
  return `LK${createHash('sha256').update(reference).digest('hex').slice(0, 23).toUpperCase()}`;
}

const notFound = (what: string, providerCode: string) =>
  new GatewayError(`${what} not found`, { providerCode, httpStatus: 404, retryable: false });

export function createSimulatorGateway(opts: { merchantName: string; merchantCity: string; publicUrl: string }) {
  const qrs = new Map<string, QrPayment>();
  const invoices = new Map<string, Invoice>();
  const byReference = new Map<string, string>();

  const gateway: PaymentGateway & {
    markQrPaid(providerId: string, at: Date): QrPayment;
    markInvoice(providerId: string, status: 'PAID' | 'EXPIRED', at: Date): Invoice;
  } = {
    name: 'simulator',
    async createQr(req: QrPaymentRequest) {
      if (byReference.has(req.reference)) {
        throw new GatewayError('A QR code with this reference already exists', {
          providerCode: 'DUPLICATE_ERROR',
          httpStatus: 409,
          retryable: false,
        });
      }
      const qr: QrPayment = {
        providerId: `qr_sim_${randomBytes(12).toString('hex')}`,
        reference: req.reference,
        amount: req.amount,
        qrString: buildQris({
          merchantName: opts.merchantName,
          merchantCity: opts.merchantCity,
          amount: req.amount,
          reference: qrisReference(req.reference),
        }),
        status: 'PENDING',
        expiresAt: req.expiresAt,
        paidAt: null,
        paymentId: null,
      };
      qrs.set(qr.providerId, qr);
      byReference.set(req.reference, qr.providerId);
      return { ...qr };
    },
    async getQr(ids) {
      const qr = qrs.get(ids.providerId);
      if (!qr) throw notFound('QR code', 'DATA_NOT_FOUND');
      return { ...qr };
    },
    async closeQr(ids) {
      const qr = qrs.get(ids.providerId);
      if (!qr) throw notFound('QR code', 'DATA_NOT_FOUND');
      // A closed code is one a bank app refuses; one already paid stays paid.
      if (qr.status === 'PENDING') qr.status = 'EXPIRED';
      return { qr: { ...qr }, closed: qr.status === 'EXPIRED' };
    },
    async createInvoice(req: InvoiceRequest) {
      const providerId = `inv_sim_${randomBytes(12).toString('hex')}`;
      const invoice: Invoice = {
        providerId,
        reference: req.reference,
        amount: req.amount,
        status: 'PENDING',
        invoiceUrl: `${opts.publicUrl}/_dev/payments/${encodeURIComponent(req.reference)}/invoice`,
        expiresAt: new Date(Date.now() + req.durationSeconds * 1000),
        paidAt: null,
        paidAmount: null,
      };
      invoices.set(providerId, invoice);
      byReference.set(req.reference, providerId);
      return { ...invoice };
    },
    async getInvoice(providerId) {
      const inv = invoices.get(providerId);
      if (!inv) throw notFound('Invoice', 'INVOICE_NOT_FOUND_ERROR');
      return { ...inv };
    },
    async expireInvoice(providerId) {
      return gateway.markInvoice(providerId, 'EXPIRED', new Date());
    },
    markQrPaid(providerId, at) {
      const qr = qrs.get(providerId) ?? {
        providerId,
        reference: '',
        amount: 0,
        qrString: '',
        status: 'PENDING',
        expiresAt: null,
        paidAt: null,
        paymentId: null,
      };
      if (qr.status === 'EXPIRED') {
        throw new GatewayError('The QR code was closed and can no longer be paid', {
          providerCode: 'QR_CODE_INACTIVE',
          httpStatus: 409,
          retryable: false,
        });
      }
      Object.assign(qr, {
        status: 'COMPLETED',
        paidAt: at,
        paymentId: qr.paymentId ?? `qrpy_sim_${randomBytes(12).toString('hex')}`,
      });
      qrs.set(providerId, qr);
      return { ...qr };
    },
    markInvoice(providerId, status, at) {
      const inv = invoices.get(providerId);
      if (!inv) throw notFound('Invoice', 'INVOICE_NOT_FOUND_ERROR');
      if (inv.status === 'PENDING') {
        Object.assign(inv, status === 'PAID' ? { status, paidAt: at, paidAmount: inv.amount } : { status });
      }
      return { ...inv };
    },
  };
  return gateway;
}

export type SimulatorGateway = ReturnType<typeof createSimulatorGateway>;
