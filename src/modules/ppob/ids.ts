import { randomBytes } from 'node:crypto';

/** A sortable, unguessable id: prefix, time (base 36) and random hex, cut to `length`. */
export const newId = (prefix: string, length: number) => {
  const time = Date.now().toString(36).toUpperCase();
  const rand = randomBytes(8).toString('hex').toUpperCase();
  return `${prefix}${time}${rand}`.slice(0, length);
};
