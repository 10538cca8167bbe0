// The IM3 module (seed 004), mounted under /api: accounts (register, profile, password), the operator port
// (OTP, profile, eligibility, payment; simulator or HTTP adapter), the package catalogue and the purchase pipeline.
import type { LoketModule } from '../../core/context.ts';
import { registerErrorCodes } from '../../core/http/errors.ts';
import { createHttpOperator, createSimulatorOperator, type Im3Operator } from './operator.ts';
import { insertPackage, listPackages } from './repo.ts';
import { registerIm3Routes } from './routes.ts';
import { createIm3Service, STEP_JOB, STEP_RETRIES } from './service.ts';

registerErrorCodes({
  USERNAME_EXISTS: 409,
  USER_NOT_FOUND: 404,
  PACKAGE_NOT_FOUND: 404,
  IM3_AUTH_ERROR: 502,
});

export function createIm3Module(): LoketModule {
  return {
    name: 'im3',
    envelopes: [
      ['/api/auth', 'im3'],
      ['/api/user', 'im3'],
      ['/api/im3', 'im3'],
      ['/api/packages', 'im3'],
      ['/api/admin/im3', 'im3'],
      ['/api/health', 'im3'],
    ],
    register(app, core) {
      const { config } = core;
      const operator: Im3Operator =
        config.im3Provider === 'http'
          ? createHttpOperator({ config })
          : createSimulatorOperator({ config, otp: core.identity.otp, db: core.database.db, now: core.now });
      const service = createIm3Service(core, operator);
      core.jobs.define<{ id: number }>({
        name: STEP_JOB,
        handler: (job) => service.step(job),
        retryLimit: STEP_RETRIES + 1,
        retryDelay: 2,
        expireInSeconds: Math.ceil(config.im3TimeoutMs / 1000) * 3 + 60,
        concurrency: 4,
      });
      registerIm3Routes(app, core, service);
    },
    async demo(core) {
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
  };
}
