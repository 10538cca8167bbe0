// Schema helpers for request bodies. `Type.Union([X, Type.Null()])` compiles to `anyOf`, and with the validator's
// type coercion a value that fails X is then coerced into the null branch: `0`, `""` and `false` silently become
// `null` (a VLAN of 0 accepted as "no VLAN"). `OrNull` writes the nullable form as one `type: [t, "null"]`
// instead: a value of the right type is never coerced, so it is checked against X's limits, and `null` is null.
import { type Static, type TSchema, Type } from 'typebox';

type Primitive = 'string' | 'integer' | 'number' | 'boolean';

export function OrNull<T extends TSchema>(schema: T) {
  const { type, ...rest } = schema as unknown as { type?: unknown } & Record<string, unknown>;
  if (typeof type !== 'string' || !['string', 'integer', 'number', 'boolean'].includes(type)) {
    throw new Error('OrNull takes a string, integer, number or boolean schema');
  }
  return Type.Unsafe<Static<T> | null>({ ...rest, type: [type as Primitive, 'null'] });
}
