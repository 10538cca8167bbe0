// The IM3 module (seed 004), mounted under /api: accounts (register, profile, password), the operator port
// (OTP, profile, eligibility, payment; simulator or HTTP adapter), the package catalogue and the purchase pipeline.
import { defineModule } from '../../core/module.ts';
import { im3Envelope } from './envelope.ts';
import { IM3_LIMITS } from './limits.ts';
import { insertPackage, listPackages } from './repo.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerOperatorRoutes } from './routes/operator.ts';
import { registerPackageRoutes } from './routes/packages.ts';
import { registerUserRoutes } from './routes/user.ts';
import { stepJob } from './use-cases/step.ts';
import { wire } from './wire.ts';

export const im3Module = defineModule({
  name: 'im3',
  envelope: im3Envelope,
  // `/_dev/im3` too: the development payment route answers in IM3's envelope, a URL the router cannot read too.
  prefixes: ['/api/auth', '/api/user', '/api/im3', '/api/packages', '/api/admin/im3', '/api/health', '/_dev/im3'],
  errors: { USERNAME_EXISTS: 409, USER_NOT_FOUND: 404, PACKAGE_NOT_FOUND: 404, IM3_AUTH_ERROR: 502 },
  limits: IM3_LIMITS,
  wire,
  jobs: (deps) => [stepJob(deps)],
  routes(router, deps, core) {
    registerAuthRoutes(router, deps, core);
    registerUserRoutes(router, deps);
    registerOperatorRoutes(router, deps);
    registerPackageRoutes(router, deps);
    registerAdminRoutes(router, deps);
    registerHealthRoutes(router, deps, core);
  },
  async doctor(config) {
    if (config.im3Provider === 'simulator') {
      const detail = 'simulator (IM3_PROVIDER=simulator): the operator is simulated';
      if (config.env !== 'production') return [{ name: 'im3 operator', status: 'ok', detail }];
      return [{ name: 'im3 operator', status: 'warn', detail, fix: 'set IM3_PROVIDER=http and IM3_BASE_URL' }];
    }
    // The operator API has no call without an effect (each one starts an OTP or a purchase): only the settings.
    return [{ name: 'im3 operator', status: 'ok', detail: `IM3_PROVIDER=http at ${config.im3BaseUrl}, not called` }];
  },
  async demo(_deps, core) {
    const { db } = core.database;
    if ((await listPackages(db)).length > 0) return;
    const at = core.now();
    for (const p of [
      {
        pvr_code: 'IM3001',
        keyword: 'DATA5GB',
        discount_price: 45_000,
        normal_price: 50_000,
        package_name: '5GB Internet Package',
      },
      {
        pvr_code: 'IM3002',
        keyword: 'DATA15GB',
        discount_price: 85_000,
        normal_price: 100_000,
        package_name: '15GB Internet Package',
      },
      {
        pvr_code: 'IM3003',
        keyword: 'UNLIMITED',
        discount_price: 120_000,
        normal_price: 150_000,
        package_name: 'Unlimited 30 Days',
      },
    ]) {
      await insertPackage(db, p, at);
    }
  },
});
