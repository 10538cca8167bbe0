// The PPOB module (seed 000), mounted at `/`: resellers register by e-mail OTP, buy with an API key against a
// ledger wallet topped up by QRIS, and learn results by /status and signed callbacks; admins keep the catalogue.
import { platformEnvelope } from '../../core/http/envelopes.ts';
import { ensureAccounts } from '../../core/ledger/ledger.ts';
import { defineModule } from '../../core/module.ts';
import { ppobEnvelope } from './envelope.ts';
import { clientCallbackJob } from './jobs/client-callback.ts';
import { priceSyncJob } from './jobs/price-sync.ts';
import { CLEARING, REVENUE } from './ledger.ts';
import { PPOB_LIMITS } from './limits.ts';
import { anyProduct, insertProduct } from './repo/products.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerResellerRoutes } from './routes/reseller.ts';
import { registerProviderWebhook } from './routes/webhook.ts';
import { providerFor, wirePpob } from './wire.ts';

const PATHS = [
  '/register',
  '/verif-otp',
  '/generate-key',
  '/produk',
  '/cek-produk',
  '/beli',
  '/status',
  '/riwayat',
  '/saldo',
  '/deposit',
  '/callback',
];

export const ppobModule = defineModule({
  name: 'ppob',
  envelope: ppobEnvelope,
  prefixes: PATHS,
  // The catalogue admin API answers in the platform's envelope, as the platform admin API does.
  otherPrefixes: [['/api/admin/ppob', platformEnvelope]],
  errors: { INSUFFICIENT_BALANCE: 400 },
  limits: PPOB_LIMITS,
  wire: wirePpob,
  jobs: (d) => [clientCallbackJob(d), ...(d.provider.name === 'digiflazz' ? [priceSyncJob(d)] : [])],
  routes(router, d) {
    registerResellerRoutes(router, d);
    registerAdminRoutes(router, d);
    registerProviderWebhook(router, d);
  },
  async onReady(d) {
    // The house accounts purchase and result batches credit, created before the first batch (`ensureAccounts`).
    await ensureAccounts(d.db, [CLEARING, REVENUE]);
    d.dispatcher.start();
  },
  onClose: (d, core) => d.dispatcher.stop(core.config.shutdownTimeoutMs),
  readiness: ({ provider }) => ({
    ppob_provider: async () => {
      if (provider.name === 'digiflazz') await provider.balance();
    },
  }),
  async doctor(config) {
    const provider = await providerFor(config);
    if (provider.name !== 'digiflazz') {
      const detail = 'simulator (PPOB_PROVIDER=simulator): purchases are simulated';
      if (config.env !== 'production') return [{ name: 'ppob provider', status: 'ok', detail }];
      return [{ name: 'ppob provider', status: 'warn', detail, fix: 'set PPOB_PROVIDER=digiflazz with its keys' }];
    }
    try {
      const deposit = await provider.balance();
      return [{ name: 'ppob provider', status: 'ok', detail: `Digiflazz accepts the keys (deposit Rp ${deposit})` }];
    } catch (err) {
      const fix = 'check DIGIFLAZZ_USERNAME and DIGIFLAZZ_API_KEY (production key) and the server IP whitelisted there';
      return [{ name: 'ppob provider', status: 'fail', detail: `Digiflazz: ${(err as Error).message}`, fix }];
    }
  },
  async demo(d) {
    if (await anyProduct(d.db)) return;
    const products = [
      ['PLS5', 'Pulsa 5.000', 6_500, 'Pulsa reguler 5.000 semua operator'],
      ['PLS10', 'Pulsa 10k', 12_000, 'Pulsa Reguler 10.000'],
      ['PLS25', 'Pulsa 25.000', 26_000, 'Pulsa reguler 25.000'],
      ['PLN20', 'Token PLN 20.000', 21_500, 'Token listrik prabayar 20.000'],
      ['PLN50', 'Token PLN 50.000', 51_500, 'Token listrik prabayar 50.000'],
      ['XCVYT12', 'Xtra Combo YouTube 1 Tahun', 250_000, 'Paket data YouTube 12 bulan'],
    ] as const;
    for (const [kode_produk, nama, harga, deskripsi] of products) {
      await insertProduct(d.db, { kode_produk, nama, harga, deskripsi, provider_sku: kode_produk }, d.now());
    }
  },
});
