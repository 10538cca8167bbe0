// The staff module (seed 002): jabatan and users CRUD, and the OTP flow, mounted at `/`.
import { deriveKey } from '../../core/crypto.ts';
import { OTP_SEND_WINDOW_MS, OTP_SENDS_PER_WINDOW } from '../../core/identity/otp.ts';
import { RateLimitError } from '../../core/limits/limiter.ts';
import { defineModule } from '../../core/module.ts';
import { staffEnvelope } from './envelope.ts';
import { STAFF_LIMITS } from './limits.ts';
import { coreOtpStore, redisOtpStore } from './otp.ts';
import { insertJabatan, listJabatan } from './repo.ts';
import { registerStaffRoutes } from './routes.ts';
import { createOtpUseCases } from './use-cases/otp.ts';

export const staffModule = defineModule({
  name: 'staff',
  envelope: staffEnvelope,
  prefixes: ['/jabatan', '/users', '/otp'],
  limits: STAFF_LIMITS,
  wire(core) {
    const { redis, limiter, config } = core;
    const store = redis
      ? redisOtpStore(redis, deriveKey(config.secret, 'otp-v1'), async (key) => {
          if (!config.rateLimits) return;
          const r = await limiter.hit('otp-send', key, OTP_SENDS_PER_WINDOW, OTP_SEND_WINDOW_MS);
          if (!r.allowed) throw new RateLimitError(r.retryAfterSeconds);
        })
      : coreOtpStore(core.identity.otp);
    return { otp: createOtpUseCases(core, store) };
  },
  routes(router, { otp }, core) {
    registerStaffRoutes(router, core, otp);
  },
  async demo(_deps, core) {
    const { db } = core.database;
    if ((await listJabatan(db, 0, 1)).length > 0) return;
    for (const [nama_jabatan, deskripsi] of [
      ['Manager', 'Memimpin operasional toko'],
      ['Kasir', 'Melayani pembayaran pelanggan'],
      ['Staff Gudang', 'Mengelola stok barang'],
    ] as const) {
      await insertJabatan(db, { nama_jabatan, deskripsi }, core.now());
    }
  },
});
