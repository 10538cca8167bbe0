// The caller's line as the operator sees it, through the verified operator session.
import type { OperatorProfile } from '../providers/operator.ts';
import type { Im3Deps } from '../wire.ts';
import { fromOperator, operatorSession } from './common.ts';

export async function operatorProfile(
  deps: Pick<Im3Deps, 'db' | 'operator' | 'sealKey'>,
  accountId: number,
): Promise<OperatorProfile> {
  const { session } = await operatorSession(deps, accountId);
  try {
    return await deps.operator.profile(session);
  } catch (err) {
    fromOperator(err, false);
  }
}
