// Billing's reading of the activity log (ModuleDefinition.activityLog): the original frontend reads `{items,
// total}` (the document's list shape `data`/`total_count` is there too), each entry `{id, user, timestamp, action,
// details}` with `action` the request line that made the change (`PATCH /api/pelanggan/7`; the page colours it by
// its method) and `details` a JSON string of the values before and after. Billing admins (level 50) read it.
import { Type } from 'typebox';
import type { ActivityLogView, ActivityRecord } from '../../core/audit/audit.ts';
import { localTime } from '../../core/time.ts';

/** A change made outside a request (a job) is shown by the method its verb would have used. */
function methodOf(event: string): string {
  const verb = event.split('.').at(-1) ?? '';
  if (verb === 'created' || verb === 'generated') return 'POST';
  if (verb === 'deleted' || verb === 'cancelled') return 'DELETE';
  return 'PATCH';
}

const Item = Type.Object({
  id: Type.Integer(),
  user: Type.Union([
    Type.Object({ id: Type.Integer(), name: Type.String(), email: Type.Union([Type.String(), Type.Null()]) }),
    Type.Null(),
  ]),
  user_id: Type.Union([Type.Integer(), Type.Null()]),
  timestamp: Type.String({ format: 'date-time' }),
  action: Type.String({ description: 'the request line that made the change: METHOD /path' }),
  event: Type.String({ description: "Loket's name of the change (billing.customer.updated)" }),
  object_type: Type.Union([Type.String(), Type.Null()]),
  object_id: Type.Union([Type.String(), Type.Null()]),
  details: Type.String({ description: 'JSON: {event, object_type, object_id, before, after}' }),
  before: Type.Unknown(),
  after: Type.Unknown(),
  ip: Type.Union([Type.String(), Type.Null()]),
  request_id: Type.Union([Type.String(), Type.Null()]),
});

export function activityItem(r: ActivityRecord) {
  const id = r.account_id === null ? null : Number(r.account_id);
  return {
    id: Number(r.id),
    user: id !== null && r.account_name !== null ? { id, name: r.account_name, email: r.account_email } : null,
    user_id: id,
    timestamp: localTime(r.created_at),
    action: r.method && r.path ? `${r.method} ${r.path}` : `${methodOf(r.action)} ${r.action}`,
    event: r.action,
    object_type: r.object_type,
    object_id: r.object_id,
    details: JSON.stringify({
      event: r.action,
      object_type: r.object_type,
      object_id: r.object_id,
      before: r.before,
      after: r.after,
    }),
    before: r.before,
    after: r.after,
    ip: r.ip,
    request_id: r.request_id,
  };
}

export const billingActivityLog: ActivityLogView = {
  level: 50,
  schema: Type.Object({
    items: Type.Array(Item),
    total: Type.Integer(),
    data: Type.Array(Item),
    total_count: Type.Integer(),
    skip: Type.Integer(),
    limit: Type.Integer(),
  }),
  page({ rows, total, skip, limit }) {
    const items = rows.map(activityItem);
    return { items, total, data: items, total_count: total, skip, limit };
  },
};
