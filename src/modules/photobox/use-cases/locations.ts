// Locations: names (and machine codes) are unique, case-insensitively, and stored trimmed; a location with
// transactions keeps its history: it is deactivated instead of deleted. The resource helper runs each change in
// one transaction with its activity entry.
import type { Executor } from '../../../core/db/tables.ts';
import { AppError } from '../../../core/http/errors.ts';
import { MESSAGES } from '../messages.ts';
import * as repo from '../repo/index.ts';

type LocationInput = Partial<repo.LocationFields>;

const clean = (v: LocationInput): LocationInput => ({
  ...v,
  ...(v.ml_name !== undefined ? { ml_name: v.ml_name.trim() } : {}),
  ...(typeof v.ml_address === 'string' ? { ml_address: v.ml_address.trim() || null } : {}),
});

/** A unique index's refusal in the module's words. */
const conflict = (err: unknown) =>
  repo.isUniqueViolation(err)
    ? new AppError(
        'CONFLICT',
        repo.violatedConstraint(err).includes('machine_code') ? MESSAGES.machineCodeTaken : MESSAGES.locationNameTaken,
      )
    : err;

export async function createLocation(trx: Executor, v: LocationInput & { ml_name: string }, now: Date) {
  const c = clean(v);
  try {
    return await repo.insertLocation(
      trx,
      {
        ml_name: c.ml_name ?? v.ml_name.trim(),
        ml_address: c.ml_address ?? null,
        ml_machine_code: c.ml_machine_code ?? null,
        ml_is_active: c.ml_is_active ?? true,
      },
      now,
    );
  } catch (err) {
    throw conflict(err);
  }
}

/** PUT with the fields it is given; the others stay as they are. */
export async function updateLocation(trx: Executor, id: number, v: LocationInput, now: Date) {
  try {
    return await repo.updateLocation(trx, id, clean(v), now);
  } catch (err) {
    throw conflict(err);
  }
}

export async function removeLocation(trx: Executor, id: number, before: repo.Location, now: Date) {
  if (await repo.locationHasTransactions(trx, id)) {
    const row = await repo.updateLocation(trx, id, { ml_is_active: false }, now);
    return { row, outcome: 'deactivated' as const };
  }
  await repo.deleteLocation(trx, id);
  return { row: before, outcome: 'deleted' as const };
}
