// The built-in PPOB provider (CONTRACTS §4): a purchase is pending when submitted and final when checked again
// (the PPOB service re-checks after PPOB_SIMULATOR_DELAY_MS). A destination number ending in 000 fails; every
// other number succeeds with a serial number derived from the transaction id.
import { createHash } from 'node:crypto';
import type { PpobProvider, ProviderResult, PurchaseRequest } from './provider.ts';

export function createSimulatorProvider(): PpobProvider {
  const final = (req: PurchaseRequest): ProviderResult =>
    req.customerNo.endsWith('000')
      ? { status: 'gagal', message: 'Nomor tujuan tidak valid (simulator)', code: '40' }
      : {
          status: 'sukses',
          message: 'Transaksi sukses (simulator)',
          code: '00',
          serialNumber: createHash('sha256').update(req.refId).digest('hex').slice(0, 16).toUpperCase(),
        };
  return {
    name: 'simulator',
    async purchase() {
      return { status: 'pending', message: 'Transaksi sedang diproses (simulator)', code: '03' };
    },
    async check(req) {
      return final(req);
    },
    // The simulator has no price list of its own: its catalogue is what the demo seeded and the admins keep, so
    // the sync leaves it alone (see use-cases/price-sync.ts).
    async priceList() {
      return { products: [], unreadable: 0 };
    },
    async balance() {
      return Number.MAX_SAFE_INTEGER;
    },
    readCallback() {
      return undefined;
    },
  };
}
