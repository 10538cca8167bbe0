// The billing module (seed 003, FTTH ISP billing), mounted under /api. Built with the module kit: this definition,
// a router per resource under routes/, SQL in repo.ts. This first part holds the brands and their billing rules.
import { deriveKey } from '../../core/crypto.ts';
import { defineModule } from '../../core/module.ts';
import { billingEnvelope } from './envelope.ts';
import { BILLING_LIMITS } from './limits.ts';
import { getBrand, insertBrand } from './repo/brands.ts';
import { registerBrandRoutes } from './routes/brands.ts';
import { registerCustomerRoutes } from './routes/customers.ts';
import { registerPackageRoutes } from './routes/packages.ts';
import { registerTechnicalRoutes } from './routes/technical.ts';

export const billingModule = defineModule({
  name: 'billing',
  envelope: billingEnvelope,
  prefixes: [
    '/api/brands',
    '/api/harga_layanan',
    '/api/paket_layanan',
    '/api/pelanggan',
    '/api/data_teknis',
    '/api/invoices',
    '/api/langganan',
    '/api/dashboard',
    '/api/reports',
    '/api/mikrotik_servers',
    '/api/notifications',
  ],
  limits: BILLING_LIMITS,
  wire: (core) => ({ sealKey: deriveKey(core.config.secret, 'billing-pppoe-v1') }),
  routes(router, { sealKey }, core) {
    registerBrandRoutes(router, core);
    registerPackageRoutes(router, core);
    registerCustomerRoutes(router, core);
    registerTechnicalRoutes(router, core, sealKey);
  },
  async demo(_deps, core) {
    const { db } = core.database;
    if (await getBrand(db, 'JAKINET')) return;
    await insertBrand(
      db,
      {
        id_brand: 'JAKINET',
        brand: 'Jakinet',
        pajak: 11,
        xendit_key_name: 'JAKINET',
        due_day: 10,
        invoice_days_before: 5,
        grace_days: 5,
        isolation_profile: 'ISOLIR',
      },
      core.now(),
    );
  },
});
