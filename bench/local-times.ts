// What the module router's preSerialization hook (CONTRACTS §6, `localTimes`) costs per answer, beside
// JSON.stringify of the same answer. Run: node_modules/.bin/node bench/local-times.ts
import { localTimes } from '../src/core/time.ts';

const row = (i: number) => ({
  id: i,
  nama: `Pelanggan ${i}`,
  email: `p${i}@example.com`,
  no_telp: '0812',
  no_ktp: '1',
  alamat: 'Jl',
  alamat_2: null,
  blok: 'A',
  unit: '1',
  tanggal_instalasi: '2024-01-15',
  id_brand: 'JAKINET',
  status: 'Aktif',
  harga_layanan: {
    id: 1,
    nama_paket: 'x',
    harga: 1,
    kecepatan: 10,
    id_brand: 'J',
    brand: 'J',
    pajak: 11,
    xendit_key_name: 'J',
  },
  created_at: new Date(),
  updated_at: new Date(),
});
const strRow = (i: number) => ({
  ...row(i),
  created_at: '2026-12-06T07:00:00+07:00',
  updated_at: '2026-12-06T07:00:00+07:00',
});
const withDates = { data: Array.from({ length: 100 }, (_, i) => row(i)), total_count: 100, skip: 0, limit: 100 };
const noDates = { data: Array.from({ length: 100 }, (_, i) => strRow(i)), total_count: 100, skip: 0, limit: 100 };
const beli = {
  code: 200,
  status: 'success',
  message: 'ok',
  data: {
    id: 'TRX1',
    kode_produk: 'PLS10',
    nomor_tujuan: '0812',
    status: 'pending',
    waktu: '2026-12-06T07:00:00+07:00',
    harga: 10000,
  },
};
for (const [name, v, n] of [
  ['100 customers with 200 Dates', withDates, 2000],
  ['100 customers, times already strings', noDates, 2000],
  ['a /beli answer', beli, 200000],
] as const) {
  for (let i = 0; i < n / 10; i++) localTimes(v);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) localTimes(v);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  const s0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) JSON.stringify(v);
  const js = Number(process.hrtime.bigint() - s0) / 1000 / n;
  console.log(`${name}: localTimes ${us.toFixed(2)} µs per answer (JSON.stringify of the same: ${js.toFixed(2)} µs)`);
}
