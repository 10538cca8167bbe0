// The staff module's words (Indonesian, as the original answered; `OTP wrong` is the document's own text).
export const MESSAGES = {
  jabatanNotFound: 'Jabatan tidak ditemukan',
  userNotFound: 'User tidak ditemukan',
  jabatanInvalid: 'jabatan tidak valid',
  jabatanInUse: 'Jabatan masih dipakai oleh user; pindahkan user tersebut terlebih dahulu',
  otpMissing: 'OTP tidak ditemukan atau sudah kedaluwarsa.',
  otpWrong: 'OTP wrong',
  otpLocked: 'Percobaan verifikasi OTP melebihi batas. OTP telah direset.',
  otpOk: 'OTP berhasil diverifikasi.',
  otpSent: 'OTP telah dikirim ke nomor telepon yang terdaftar.',
} as const;
