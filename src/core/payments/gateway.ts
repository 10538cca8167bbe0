// The port every payment provider adapter implements (Xendit over HTTP, or the built-in simulator). Amounts are
// integer rupiah. Adapters never touch the database: the payments service records what they return.

export type QrStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'EXPIRED';
export type InvoiceStatus = 'PENDING' | 'PAID' | 'SETTLED' | 'EXPIRED';

export interface QrPaymentRequest {
  /** Our reference (Xendit v1 `external_id`, v2 `reference_id`); unique per payment. */
  reference: string;
  amount: number;
  expiresAt: Date;
  /** Where the provider sends its callback (Xendit v1 needs it per QR code). */
  callbackUrl: string;
}

export interface QrPayment {
  /** The provider's id of the QR code (`qr_…`). */
  providerId: string;
  reference: string;
  amount: number;
  qrString: string;
  status: QrStatus;
  expiresAt: Date | null;
  paidAt: Date | null;
  /** The provider's id of the payment made with the code, once there is one. */
  paymentId: string | null;
}

export interface InvoiceRequest {
  reference: string;
  amount: number;
  description: string;
  payerEmail?: string;
  durationSeconds: number;
  successRedirectUrl?: string;
  failureRedirectUrl?: string;
}

export interface Invoice {
  providerId: string;
  reference: string;
  amount: number;
  status: InvoiceStatus;
  invoiceUrl: string;
  expiresAt: Date | null;
  paidAt: Date | null;
  paidAmount: number | null;
}

export interface PaymentGateway {
  readonly name: 'xendit' | 'simulator';
  createQr(request: QrPaymentRequest): Promise<QrPayment>;
  /** Current state of a QR payment, by the ids `createQr` returned. */
  getQr(ids: { providerId: string; reference: string }): Promise<QrPayment>;
  /**
   * Stops a QR code from being paid where the provider can, and answers its state (COMPLETED when it was paid
   * first). `closed` says whether the provider will now refuse a payment; when it cannot (Xendit has no call that
   * deactivates a dynamic QR code), a payment that still arrives is recorded as a late payment to refund.
   */
  closeQr(ids: { providerId: string; reference: string }): Promise<{ qr: QrPayment; closed: boolean }>;
  createInvoice(request: InvoiceRequest): Promise<Invoice>;
  getInvoice(providerId: string): Promise<Invoice>;
  expireInvoice(providerId: string): Promise<Invoice>;
}

/** A provider refused or failed. `retryable` is true only when repeating the call cannot charge twice. */
export class GatewayError extends Error {
  readonly providerCode: string;
  readonly httpStatus: number | undefined;
  readonly retryable: boolean;
  constructor(message: string, opts: { providerCode: string; httpStatus?: number; retryable: boolean }) {
    super(message);
    this.name = 'GatewayError';
    this.providerCode = opts.providerCode;
    this.httpStatus = opts.httpStatus;
    this.retryable = opts.retryable;
  }
}
