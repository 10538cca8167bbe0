// Linking the caller's number to the operator: an OTP sent through the operator (its challenge sealed here), then
// the code answered for that challenge wins an operator session, sealed too and never returned.
import { open, seal } from '../../../core/crypto.ts';
import { AppError } from '../../../core/http/errors.ts';
import { findSession, saveChallenge, saveSession } from '../repo.ts';
import type { Im3Deps } from '../wire.ts';
import { fromOperator, mustAccount } from './common.ts';

const ASK_FIRST = 'Ask for an OTP first (GET /api/im3/send-otp)';

export async function sendOtp(
  deps: Pick<Im3Deps, 'db' | 'identity' | 'operator' | 'sealKey' | 'now'>,
  accountId: number,
) {
  const a = await mustAccount(deps, accountId);
  if (!a.phone) throw new AppError('BUSINESS_LOGIC_ERROR', 'Set your phone number first (PUT /api/user/me)');
  const phone = a.phone;
  // The operator call is made outside any transaction: it may be a network call (withTransaction's rule), and
  // on the embedded database a transaction would hold the only connection for as long as the operator takes.
  let challenge: string;
  try {
    challenge = (await deps.operator.sendOtp(deps.db, phone)).challenge;
  } catch (err) {
    fromOperator(err, true);
  }
  await saveChallenge(deps.db, accountId, phone, seal(deps.sealKey, challenge), deps.now());
  return { phone_number: phone, message: 'OTP sent' };
}

export async function verifyOtp(
  deps: Pick<Im3Deps, 'db' | 'identity' | 'operator' | 'sealKey' | 'now'>,
  accountId: number,
  code: string,
) {
  const row = await findSession(deps.db, accountId);
  const a = await mustAccount(deps, accountId);
  if (!row?.challenge_sealed || row.phone !== a.phone) throw new AppError('BUSINESS_LOGIC_ERROR', ASK_FIRST);
  let session: string;
  try {
    session = (await deps.operator.verifyOtp(row.phone, open(deps.sealKey, row.challenge_sealed), code)).session;
  } catch (err) {
    fromOperator(err, true);
  }
  const saved = await saveSession(
    deps.db,
    accountId,
    { phone: row.phone, challenge: row.challenge_sealed },
    seal(deps.sealKey, session),
    deps.now(),
  );
  if (!saved) throw new AppError('BUSINESS_LOGIC_ERROR', ASK_FIRST);
  return { verified: true, phone_number: row.phone, message: 'OTP verified' };
}
