// Request and response shapes of billing's routers (mikrotik_servers), provisioning and isolation routes.
import { Type } from 'typebox';
import { OrNull } from '../../core/http/types.ts';

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '\\S' });
const Port = Type.Integer({ minimum: 1, maximum: 65_535 });

export const RouterSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  host_ip: Type.String(),
  port: Type.Integer(),
  username: Type.String(),
  transport: Type.String({ description: 'api (RouterOS API protocol) or rest (RouterOS 7 REST)' }),
  use_tls: Type.Boolean(),
  is_active: Type.Boolean(),
  ros_version: OrNull(Type.String()),
  identity: OrNull(Type.String()),
  last_connection_status: OrNull(Type.String({ description: 'success or failure' })),
  last_connected_at: OrNull(Type.String({ format: 'date-time' })),
  last_checked_at: OrNull(Type.String({ format: 'date-time' })),
  last_latency_ms: OrNull(Type.Integer()),
  last_error: OrNull(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const routerInput = {
  name: Text(100),
  host_ip: Text(255),
  port: Port,
  username: Text(100),
  password: Type.String({ maxLength: 200, description: 'write-only: stored encrypted, never returned' }),
  transport: Type.Union([Type.Literal('api'), Type.Literal('rest')]),
  use_tls: Type.Boolean(),
  is_active: Type.Boolean(),
};

export const RouterCreate = Type.Object({
  name: routerInput.name,
  host_ip: routerInput.host_ip,
  port: Type.Optional(Port),
  username: routerInput.username,
  password: Type.String({ minLength: 1, maxLength: 200, description: 'write-only: stored encrypted, never returned' }),
  transport: Type.Optional(routerInput.transport),
  use_tls: Type.Optional(routerInput.use_tls),
  is_active: Type.Optional(routerInput.is_active),
});
export const RouterUpdate = Type.Partial(Type.Object(routerInput));

export const RouterQuery = Type.Object({
  skip: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ minimum: 1, default: 100 }),
  search: Type.Optional(Type.String({ maxLength: 100 })),
  is_active: Type.Optional(Type.Boolean()),
  last_connection_status: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
});

export const TestAnswer = Type.Object({
  ok: Type.Boolean(),
  identity: Type.Optional(Type.String()),
  version: Type.Optional(Type.String()),
  board_name: Type.Optional(OrNull(Type.String())),
  uptime: Type.Optional(Type.String()),
  latency_ms: Type.Integer(),
  error: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
});

/** The original frontend's `test_connection` body (also sent with a 400 on failure). */
export const TestConnectionAnswer = Type.Object({
  test_result: Type.Object({
    status: Type.String({ description: 'success or failure' }),
    message: Type.String(),
    data: Type.Object({
      ros_version: OrNull(Type.String()),
      identity: OrNull(Type.String()),
      latency_ms: Type.Integer(),
    }),
  }),
  updated_server: RouterSchema,
});

export const HealthItem = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  host_ip: Type.String(),
  is_active: Type.Boolean(),
  status: Type.String({ description: 'online, offline or unknown (never checked)' }),
  latency_ms: OrNull(Type.Integer()),
  last_check: OrNull(Type.String({ format: 'date-time' })),
  last_connected_at: OrNull(Type.String({ format: 'date-time' })),
  error: OrNull(Type.String()),
  ros_version: OrNull(Type.String()),
});
export const HealthAnswer = Type.Object({
  total: Type.Integer(),
  online: Type.Integer(),
  offline: Type.Integer(),
  servers: Type.Array(HealthItem),
});

export const SyncParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  pelanggan_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
});
export const SyncAnswer = Type.Object({
  status: Type.String(),
  action: Type.String({ description: 'created or updated' }),
  name: Type.String(),
  profile: Type.String(),
  remote_address: OrNull(Type.String()),
});

export const SecretItem = Type.Object({
  id: Type.String(),
  name: Type.String(),
  profile: Type.String(),
  service: Type.String(),
  remote_address: OrNull(Type.String()),
  disabled: Type.Boolean(),
});

const Who = { pelanggan_id: Type.Integer(), name: Type.String() };
const Off = Type.Object({ ...Who, on_router: OrNull(Type.String()), expected: OrNull(Type.String()) });
export const ReconcileAnswer = Type.Object({
  mikrotik_server_id: Type.Integer(),
  repaired: Type.Boolean({ description: 'true when the drift below was fixed' }),
  checked: Type.Integer(),
  secrets_on_router: Type.Integer(),
  missing: Type.Array(Type.Object(Who)),
  wrong_profile: Type.Array(Off),
  wrong_address: Type.Array(Off),
  unknown: Type.Array(Type.Object({ name: Type.String(), profile: Type.String() })),
});

export const PromiseBody = Type.Object({
  sampai: Type.String({ format: 'date', description: 'YYYY-MM-DD, today up to 14 days ahead' }),
});
export const PromiseAnswer = Type.Object({
  pelanggan_id: Type.Integer(),
  janji_bayar_sampai: Type.String(),
  status: Type.String(),
  dibuka: Type.Boolean({ description: 'true when an isolated customer was opened until then' }),
});

export const IsolationRunAnswer = Type.Object({
  today: Type.String(),
  overdue: Type.Integer({ description: 'invoices that became Jatuh Tempo' }),
  isolated: Type.Integer(),
  pelanggan_ids: Type.Array(Type.Integer()),
});
