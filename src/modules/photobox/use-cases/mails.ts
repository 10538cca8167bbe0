// The e-mails the module sends through the outbox, in Indonesian: the payment receipt and the gallery link.
import type { Location, Transaction } from '../repo/index.ts';

const rupiah = (n: number) =>
  new Intl.NumberFormat('id-ID', { style: 'currency', currency: 'IDR', maximumFractionDigits: 0 }).format(n);
const wib = (d: Date | string) =>
  `${new Intl.DateTimeFormat('id-ID', { timeZone: 'Asia/Jakarta', dateStyle: 'long', timeStyle: 'short' }).format(new Date(d))} WIB`;

export function receiptMail(to: string, tr: Transaction, location: Location | undefined, paidAt: Date) {
  return {
    channel: 'email' as const,
    to,
    subject: `Bukti pembayaran photobox ${tr.tr_external_id}`,
    body: [
      'Terima kasih, pembayaran Anda sudah kami terima.',
      '',
      `Nomor transaksi: ${tr.tr_external_id}`,
      `Lokasi: ${location?.ml_name ?? '-'}`,
      `Jumlah: ${rupiah(tr.tr_amount)}`,
      `Dibayar: ${wib(paidAt)}`,
      'Metode: QRIS',
    ].join('\n'),
  };
}

export function galleryMail(opts: {
  to: string;
  externalId: string;
  location: Location | undefined;
  galleryUrl: string;
  photoUrls: string[];
  expiresAt: Date;
}) {
  return {
    channel: 'email' as const,
    to: opts.to,
    subject: 'Foto photobox Anda sudah siap',
    body: [
      `Terima kasih sudah berfoto${opts.location ? ` di ${opts.location.ml_name}` : ''}!`,
      '',
      'Lihat dan unduh foto Anda di galeri:',
      opts.galleryUrl,
      '',
      ...opts.photoUrls.map((url, i) => `Foto ${i + 1}: ${url}`),
      '',
      `Tautan berlaku sampai ${wib(opts.expiresAt)}. Setelah itu foto dihapus.`,
      `Nomor transaksi: ${opts.externalId}`,
    ].join('\n'),
  };
}
