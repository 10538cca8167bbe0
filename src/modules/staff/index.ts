// The staff module (seed 002): jabatan and users CRUD, and the OTP flow, mounted at `/`.
import type { LoketModule } from '../../core/context.ts';
import { deriveKey } from '../../core/crypto.ts';
import { OTP_SEND_WINDOW_MS, OTP_SENDS_PER_WINDOW } from '../../core/identity/otp.ts';
import { RateLimitError } from '../../core/limits/limiter.ts';
import { coreOtpStore, redisOtpStore } from './otp.ts';
import { insertJabatan, listJabatan } from './repo.ts';
import { registerStaffRoutes } from './routes.ts';
import { createStaffService } from './service.ts';

export const staffModule: LoketModule = {
  name: 'staff',
  envelopes: [
    ['/jabatan', 'staff'],
    ['/users', 'staff'],
    ['/otp', 'staff'],
  ],
  register(app, core) {
    const { redis, limiter, config } = core;
    const store = redis
      ? redisOtpStore(redis, deriveKey(config.secret, 'otp-v1'), async (key) => {
          if (!config.rateLimits) return;
          const r = await limiter.hit('otp-send', key, OTP_SENDS_PER_WINDOW, OTP_SEND_WINDOW_MS);
          if (!r.allowed) throw new RateLimitError(r.retryAfterSeconds);
        })
      : coreOtpStore(core.identity.otp);
    registerStaffRoutes(app, core, createStaffService(core, store));
  },
  async demo(core) {
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
};
