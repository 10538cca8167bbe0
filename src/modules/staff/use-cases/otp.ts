// The document's OTP flow: generate for an id, verify it. Outside production the code is returned, as the
// document's flow does; in production it goes to the staff member's phone through the outbox and is never returned.
import type { Core } from '../../../core/context.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { MESSAGES } from '../messages.ts';
import type { StaffOtpStore } from '../otp.ts';
import * as repo from '../repo.ts';

export function createOtpUseCases(core: Pick<Core, 'database' | 'outbox' | 'config'>, store: StaffOtpStore) {
  const { db } = core.database;
  return {
    async generate(rawId: number | string): Promise<{ otp: string } | { message: string }> {
      const id = String(rawId).trim();
      if (core.config.env !== 'production') return { otp: await store.issue(db, id) };
      const userId = Number(id);
      const user = Number.isSafeInteger(userId) ? await repo.getUser(db, userId) : undefined;
      const phone = user?.telepon;
      // The same answer whether or not the id exists (or has a phone): the endpoint is public, and must not
      // tell a stranger which staff ids are real.
      if (!phone) return { message: MESSAGES.otpSent };
      await withTransaction(db, async (trx) => {
        const code = await store.issue(trx, id);
        await core.outbox.send(trx, { channel: 'sms', to: phone, body: `Kode OTP Anda: ${code}. Berlaku 5 menit.` });
      });
      return { message: MESSAGES.otpSent };
    },

    async verify(rawId: number | string, code: string): Promise<{ message: string }> {
      const result = await store.verify(String(rawId).trim(), code.trim());
      switch (result) {
        case 'ok':
          return { message: MESSAGES.otpOk };
        case 'wrong':
          throw new AppError('BAD_REQUEST', MESSAGES.otpWrong);
        case 'locked':
          throw new AppError('RATE_LIMITED', MESSAGES.otpLocked);
        default:
          throw new AppError('NOT_FOUND', MESSAGES.otpMissing);
      }
    },
  };
}

export type OtpUseCases = ReturnType<typeof createOtpUseCases>;
