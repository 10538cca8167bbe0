// The IM3 module (seed 004), mounted under /api: accounts (register, profile, password), the operator port
// (OTP, profile, eligibility, payment; simulator or HTTP adapter), the package catalogue and the purchase pipeline.
import type { JobContext } from '../../core/jobs/jobs.ts';
import { defineModule } from '../../core/module.ts';
import { im3Envelope } from './envelope.ts';
import { IM3_LIMITS } from './limits.ts';
import { registerIm3Login } from './login.ts';
import { createHttpOperator, createSimulatorOperator, type Im3Operator } from './operator.ts';
import { insertPackage, listPackages } from './repo.ts';
import { registerIm3Routes } from './routes.ts';
import { createIm3Service, STEP_JOB, STEP_RETRIES } from './service.ts';

export const im3Module = defineModule({
  name: 'im3',
  envelope: im3Envelope,
  prefixes: ['/api/auth', '/api/user', '/api/im3', '/api/packages', '/api/admin/im3', '/api/health'],
  errors: { USERNAME_EXISTS: 409, USER_NOT_FOUND: 404, PACKAGE_NOT_FOUND: 404, IM3_AUTH_ERROR: 502 },
  limits: IM3_LIMITS,
  wire(core) {
    const { config } = core;
    const operator: Im3Operator =
      config.im3Provider === 'http'
        ? createHttpOperator({ config })
        : createSimulatorOperator({ config, otp: core.identity.otp, db: core.database.db, now: core.now });
    return { service: createIm3Service(core, operator) };
  },
  jobs: ({ service }, core) => [
    {
      name: STEP_JOB,
      handler: (job: JobContext<{ id: number }>) => service.step(job),
      retryLimit: STEP_RETRIES + 1,
      retryDelay: 2,
      expireInSeconds: Math.ceil(core.config.im3TimeoutMs / 1000) * 3 + 60,
      concurrency: 4,
    },
  ],
  routes(router, { service }, core) {
    registerIm3Login(router, core);
    registerIm3Routes(router.app, core, service);
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
