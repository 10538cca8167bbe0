// The staff module's words (Indonesian, as the original answered; `OTP wrong` is the document's own text).
import { AppError } from '../../core/http/errors.ts';

export const MESSAGES = {
  jabatanNotFound: 'Jabatan tidak ditemukan',
  userNotFound: 'User tidak ditemukan',
  jabatanInvalid: 'jabatan tidak valid',
  blank: 'tidak boleh kosong',
  jabatanInUse: 'Jabatan masih dipakai oleh user; pindahkan user tersebut terlebih dahulu',
  otpMissing: 'OTP tidak ditemukan atau sudah kedaluwarsa.',
  otpWrong: 'OTP wrong',
  otpLocked: 'Percobaan verifikasi OTP melebihi batas. OTP telah direset.',
  otpOk: 'OTP berhasil diverifikasi.',
  otpSent: 'OTP telah dikirim ke nomor telepon yang terdaftar.',
} as const;

/** The name trimmed, or a 422 for that one field when nothing is left (CONTRACTS §6). */
export function filledName(field: string, raw: string): string {
  const name = raw.trim();
  if (name === '') {
    throw new AppError('VALIDATION_ERROR', `${field} ${MESSAGES.blank}`, { details: { [field]: [MESSAGES.blank] } });
  }
  return name;
}
