// PPOB's configuration variables (composed into the Config object by src/config.ts).
import { group, v } from '../../core/config-schema.ts';

export const ppobConfig = group(
  'PPOB',
  {
    ppobProvider: v.enum('PPOB_PROVIDER', ['simulator', 'digiflazz'], {
      default: 'simulator',
      doc: '`simulator` or `digiflazz`.',
    }),
    ppobSimulatorDelayMs: v.int('PPOB_SIMULATOR_DELAY_MS', {
      default: 2000,
      min: 0,
      max: 600_000,
      doc: 'How long the simulator takes to finish a purchase (a number ending in 000 fails).',
    }),
    ppobTrxPrefix: v.string('PPOB_TRX_PREFIX', {
      default: 'LKT',
      check: (s) => (/^[A-Z]{1,6}$/.test(s) ? undefined : 'must be 1-6 capital letters'),
      doc: 'Prefix of PPOB transaction ids (letters, at most 6).',
    }),
    digiflazzUsername: v.string('DIGIFLAZZ_USERNAME', { doc: 'Digiflazz username.' }),
    digiflazzApiKey: v.secret('DIGIFLAZZ_API_KEY', { doc: 'Digiflazz API key (production or development key).' }),
    digiflazzWebhookSecret: v.secret('DIGIFLAZZ_WEBHOOK_SECRET', {
      doc: 'Secret of the Digiflazz webhook (X-Hub-Signature).',
    }),
    digiflazzBaseUrl: v.url('DIGIFLAZZ_BASE_URL', {
      protocols: ['http:', 'https:'],
      trimSlash: true,
      default: 'https://api.digiflazz.com',
      doc: 'Digiflazz API base URL.',
    }),
    digiflazzTesting: v.bool('DIGIFLAZZ_TESTING', {
      default: false,
      doc: '`on` sends `testing: true` (Digiflazz sandbox behaviour).',
    }),
    ppobProviderTimeoutMs: v.int('PPOB_PROVIDER_TIMEOUT_MS', {
      default: 20_000,
      min: 100,
      max: 120_000,
      doc: 'Timeout of each call to the PPOB provider.',
    }),
    ppobDispatchConcurrency: v.int('PPOB_DISPATCH_CONCURRENCY', {
      default: 128,
      min: 1,
      max: 4096,
      doc: 'Provider calls in flight at once per instance (purchases submitted or re-checked).',
    }),
  },
  (c, report) => {
    if (c.ppobProvider === 'digiflazz' && (!c.digiflazzUsername || !c.digiflazzApiKey)) {
      report('PPOB_PROVIDER=digiflazz needs DIGIFLAZZ_USERNAME and DIGIFLAZZ_API_KEY');
    }
  },
);
