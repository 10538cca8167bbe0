// How billing rows are shown: the document's names and the original frontend's beside them (CONTRACTS §4).
import type { Customer } from './repo/customers.ts';
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
