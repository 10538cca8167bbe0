// The PPOB module (seed 000), mounted at `/`.
import { platformEnvelope } from '../../core/http/envelopes.ts';
import { defineModule } from '../../core/module.ts';
import { registerPpobAdminRoutes } from './admin.ts';
import { ppobEnvelope } from './envelope.ts';
import type { PpobProvider } from './providers/provider.ts';
import { createSimulatorProvider } from './providers/simulator.ts';
import { registerPpobRoutes } from './routes.ts';
import { createPpobService } from './service.ts';

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
  async wire(core) {
    const cfg = core.config;
    let provider: PpobProvider;
    if (cfg.ppobProvider === 'digiflazz') {
      const { createDigiflazzProvider } = await import('./providers/digiflazz.ts');
      provider = createDigiflazzProvider({
        username: cfg.digiflazzUsername as string,
        apiKey: cfg.digiflazzApiKey as string,
        webhookSecret: cfg.digiflazzWebhookSecret,
        baseUrl: cfg.digiflazzBaseUrl,
        timeoutMs: cfg.ppobProviderTimeoutMs,
        testing: cfg.digiflazzTesting,
      });
    } else provider = createSimulatorProvider();
    return { provider, service: createPpobService(core, provider) };
  },
  jobs: ({ provider, service }) =>
    provider.name === 'digiflazz'
      ? [
          {
            name: 'ppob.price-sync',
            cron: '17 * * * *',
            handler: async () => void (await service.syncPriceList(null, { requestId: null, ip: null })),
          },
        ]
      : [],
  async routes(router, { service }, core) {
    registerPpobRoutes(router.app, core, service);
    registerPpobAdminRoutes(router.app, core, service);
    const { registerProviderWebhook } = await import('./webhook.ts');
    registerProviderWebhook(router.app, service);
  },
  async onReady({ service }) {
    await service.prepareLedger();
    service.dispatcher.start();
  },
  onClose: ({ service }, core) => service.dispatcher.stop(core.config.shutdownTimeoutMs),
  readiness: ({ provider }) => ({
    ppob_provider: async () => {
      if (provider.name === 'digiflazz') await provider.balance();
    },
  }),
  async demo(_deps, core) {
    const { db } = core.database;
    const existing = await db.selectFrom('ppob_products').select('id').limit(1).executeTakeFirst();
    if (existing) return;
    const products = [
      ['PLS5', 'Pulsa 5.000', 6_500, 'Pulsa reguler 5.000 semua operator'],
      ['PLS10', 'Pulsa 10k', 12_000, 'Pulsa Reguler 10.000'],
      ['PLS25', 'Pulsa 25.000', 26_000, 'Pulsa reguler 25.000'],
      ['PLN20', 'Token PLN 20.000', 21_500, 'Token listrik prabayar 20.000'],
      ['PLN50', 'Token PLN 50.000', 51_500, 'Token listrik prabayar 50.000'],
      ['XCVYT12', 'Xtra Combo YouTube 1 Tahun', 250_000, 'Paket data YouTube 12 bulan'],
    ] as const;
    for (const [kode_produk, nama, harga, deskripsi] of products) {
      await db
        .insertInto('ppob_products')
        .values({ kode_produk, nama, harga, deskripsi, provider_sku: kode_produk, updated_at: core.now() })
        .execute();
    }
  },
});
