// How billing rows are shown: the document's names and the original frontend's beside them (CONTRACTS §4).
import type { Customer } from './repo/customers.ts';
import { INVOICE_STATUS, type Invoice, type InvoiceStatus } from './repo/invoices.ts';
import type { Technical } from './repo/technical.ts';

export function customerView(c: Customer & { technical?: Technical | null }) {
  return {
    id: c.id,
    nama: c.nama,
    email: c.email,
    no_telp: c.no_telp,
    no_ktp: c.no_ktp,
    alamat: c.alamat,
    alamat_2: c.alamat_2,
    blok: c.blok,
    unit: c.unit,
    tanggal_instalasi: c.tanggal_instalasi,
    tgl_instalasi: c.tanggal_instalasi,
    id_brand: c.id_brand,
    paket_layanan_id: c.paket_layanan_id,
    layanan: c.package?.nama_paket ?? null,
    status: c.status,
    harga_layanan: c.package
      ? {
          id: c.package.id,
          nama_paket: c.package.nama_paket,
          harga: c.package.harga,
          kecepatan: c.package.kecepatan,
          id_brand: c.brand?.id_brand ?? c.id_brand,
          brand: c.brand?.brand ?? null,
          pajak: c.brand?.pajak ?? 0,
          xendit_key_name: c.brand?.xendit_key_name ?? null,
        }
      : null,
    ...(c.technical !== undefined ? { data_teknis: c.technical ? technicalView(c.technical) : null } : {}),
    created_at: c.created_at,
    updated_at: c.updated_at,
  };
}

export type CustomerView = ReturnType<typeof customerView>;

/** Only the fields a list asked for (`fields=nama,email`), the id always; unknown names are ignored. */
export function pick(view: CustomerView, fields: string[] | undefined): Partial<CustomerView> {
  if (!fields) return view;
  const out: Partial<Record<keyof CustomerView, unknown>> = { id: view.id };
  for (const f of fields) if (f in view) out[f as keyof CustomerView] = view[f as keyof CustomerView];
  return out as Partial<CustomerView>;
}

/** Technical data with the original's names beside the document's; the PPPoE password is never shown. */
export function technicalView({ has_password: _, ...t }: Technical) {
  return { ...t, id_vlan: t.vlan, sn: t.sn_ont, password_pppoe: null };
}

/** An invoice with the document's names and the original frontend's beside them. */
export function invoiceView(i: Invoice, now: Date) {
  return {
    id: i.id,
    nomor_invoice: i.nomor_invoice,
    invoice_number: i.nomor_invoice,
    pelanggan_id: i.pelanggan_id,
    id_pelanggan: i.pelanggan_id,
    pelanggan_nama: i.pelanggan_nama,
    email: i.email,
    no_telp: i.no_telp,
    id_brand: i.id_brand,
    periode: i.periode,
    tanggal_invoice: i.tanggal_invoice,
    tgl_invoice: i.tanggal_invoice,
    tanggal_jatuh_tempo: i.tanggal_jatuh_tempo,
    tgl_jatuh_tempo: i.tanggal_jatuh_tempo,
    subtotal: i.subtotal,
    ppn_percent: i.ppn_percent,
    ppn: i.ppn,
    total_harga: i.total_harga,
    status_invoice: i.status_invoice,
    payment_link: i.payment_link,
    payment_reference: i.payment_reference,
    payment_link_status: linkStatus(i, now),
    metode_pembayaran: i.metode_pembayaran,
    paid_at: i.paid_at,
    items: i.items,
    created_at: i.created_at,
    updated_at: i.updated_at,
  };
}

/**
 * The original's words for the link, which its frontend shows before `status_invoice` (billing-frontend.md §6, row
 * 9): Lunas, Dibatalkan, Expired (the link itself ran out), Kadaluarsa (past due: Jatuh Tempo), or Belum Dibayar.
 */
function linkStatus(i: Invoice, now: Date): string {
  if (i.status_invoice === 'Lunas' || i.status_invoice === 'Dibatalkan') return i.status_invoice;
  if (i.payment_link_expires_at && new Date(i.payment_link_expires_at) <= now) return 'Expired';
  if (i.status_invoice === 'Jatuh Tempo') return 'Kadaluarsa';
  return 'Belum Dibayar';
}

/**
 * The original frontend's filter words mapped to statuses (billing-frontend.md, row 9): `Belum Dibayar` is waiting
 * for payment (drafts included), `Kadaluarsa` (and `Expired`) past due.
 */
export function statusesFor(filter: string | undefined): InvoiceStatus[] | undefined | null {
  if (filter === undefined || filter === '') return undefined;
  const words: Record<string, InvoiceStatus[]> = {
    'Belum Dibayar': ['Menunggu Pembayaran', 'Draft'],
    Kadaluarsa: ['Jatuh Tempo'],
    Expired: ['Jatuh Tempo'],
  };
  if (words[filter]) return words[filter];
  return (INVOICE_STATUS as readonly string[]).includes(filter) ? [filter as InvoiceStatus] : null;
}
