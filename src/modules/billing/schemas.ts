// Request and response shapes of the billing module (seed 003 and its original web frontend).
import { Type } from 'typebox';

const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });

export const IdBrand = Type.String({
  pattern: '^\\s*[A-Za-z0-9_-]{1,50}\\s*$',
  description: 'the brand code, e.g. JAKINET (letters, digits, dash, underscore)',
});

export const BrandSchema = Type.Object({
  id_brand: Type.String(),
  brand: Type.String(),
  pajak: Type.Number({ description: 'PPN, percent' }),
  xendit_key_name: Type.Union([Type.String(), Type.Null()]),
  due_day: Type.Integer({ description: 'day of the month invoices fall due' }),
  invoice_days_before: Type.Integer({ description: 'days before the due day an invoice is generated' }),
  grace_days: Type.Integer({ description: 'days after the due day before a customer is isolated' }),
  isolation_profile: Type.String({ description: 'PPPoE profile of an isolated customer' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const rules = {
  pajak: Type.Number({ minimum: 0, maximum: 100 }),
  xendit_key_name: Type.Union([Type.String({ maxLength: 50, pattern: '^[A-Za-z0-9_]*$' }), Type.Null()]),
  due_day: Type.Integer({ minimum: 1, maximum: 28 }),
  invoice_days_before: Type.Integer({ minimum: 0, maximum: 28 }),
  grace_days: Type.Integer({ minimum: 0, maximum: 60 }),
  isolation_profile: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
};

export const BrandCreate = Type.Object({
  id_brand: IdBrand,
  brand: Name,
  pajak: Type.Optional(rules.pajak),
  xendit_key_name: Type.Optional(rules.xendit_key_name),
  due_day: Type.Optional(rules.due_day),
  invoice_days_before: Type.Optional(rules.invoice_days_before),
  grace_days: Type.Optional(rules.grace_days),
  isolation_profile: Type.Optional(rules.isolation_profile),
});

export const BrandUpdate = Type.Object({
  brand: Type.Optional(Name),
  pajak: Type.Optional(rules.pajak),
  xendit_key_name: Type.Optional(rules.xendit_key_name),
  due_day: Type.Optional(rules.due_day),
  invoice_days_before: Type.Optional(rules.invoice_days_before),
  grace_days: Type.Optional(rules.grace_days),
  isolation_profile: Type.Optional(rules.isolation_profile),
});

export const BrandParams = Type.Object({ id_brand: IdBrand });

/** The frontend's list paging: a `limit` above the maximum is clamped, not refused (CONTRACTS §4). */
export const ListQuery = Type.Object({
  skip: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ minimum: 1, default: 100 }),
});

export const MAX_LIMIT = 100;
