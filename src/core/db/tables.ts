// Kysely's view of the schema. Each module adds its own tables to `Tables` with declaration merging
// (`declare module '../../core/db/tables.ts' { interface Tables { … } }`), so the core never imports a module.
import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';

export type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface SchemaMigrationsTable {
  name: string;
  checksum: string;
  applied_at: Generated<Date>;
}

export interface CoreSettingsTable {
  key: string;
  value: unknown;
  updated_at: Generated<Date>;
}

export interface AccountsTable {
  id: Generated<number>;
  email: string | null;
  username: string | null;
  name: string;
  phone: string | null;
  password_hash: string | null;
  status: 'active' | 'disabled';
  session_version: Generated<number>;
  deleted_at: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface MembershipsTable {
  account_id: number;
  module: string;
  level: number;
  created_at: Generated<Date>;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  account_id: number;
  family_id: string;
  token_hash: string;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  revoked_at: Timestamp | null;
  created_at: Generated<Date>;
}

export interface RevokedTokenFamiliesTable {
  family_id: string;
  account_id: number;
  expires_at: Timestamp;
  created_at: Generated<Date>;
}

export interface RevokedAccessTokensTable {
  jti: string;
  account_id: number;
  expires_at: Timestamp;
  created_at: Generated<Date>;
}

export interface ApiKeysTable {
  id: Generated<number>;
  account_id: number;
  module: string;
  display_prefix: string;
  key_hash: string;
  private_key_enc: string;
  created_at: Generated<Date>;
  revoked_at: Timestamp | null;
}

export interface OtpChallengesTable {
  id: Generated<number>;
  purpose: string;
  target: string;
  code_hash: string;
  attempts: Generated<number>;
  expires_at: Timestamp;
  created_at: Generated<Date>;
}

export interface OutboxMessagesTable {
  id: Generated<number>;
  channel: 'email' | 'sms' | 'whatsapp';
  recipient: string;
  subject: string | null;
  body: string;
  status: Generated<'pending' | 'sent' | 'stored' | 'failed'>;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: Timestamp;
  sent_at: Timestamp | null;
}

export interface ActivityLogsTable {
  id: Generated<number>;
  account_id: number | null;
  action: string;
  object_type: string | null;
  object_id: string | null;
  request_id: string | null;
  ip: string | null;
  /** The request line that made the change (`POST`, `/api/…`); null outside a request. */
  method: string | null;
  path: string | null;
  before: unknown;
  after: unknown;
  created_at: Timestamp;
}

export interface PaymentIntentsTable {
  id: Generated<number>;
  reference: string;
  module: string;
  kind: 'qr' | 'invoice';
  amount: number;
  status: Generated<'PENDING' | 'COMPLETED' | 'FAILED' | 'EXPIRED'>;
  provider: string;
  provider_id: string | null;
  payment_id: string | null;
  qr_string: string | null;
  invoice_url: string | null;
  expires_at: Timestamp | null;
  paid_at: Timestamp | null;
  failure_reason: string | null;
  /** The provider account the payment was made with (null: the platform's own). */
  account: Generated<string | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  provider: string;
  dedup_key: string;
  reference: string | null;
  status: string | null;
  amount: number | null;
  outcome: 'accepted' | 'duplicate' | 'amount_mismatch' | 'unknown_reference' | 'unrecognised';
  body: unknown;
  received_at: Timestamp;
  processed_at: Timestamp | null;
  result: string | null;
}

export interface NotificationsTable {
  id: Generated<number>;
  account_id: number;
  module: string;
  type: string;
  message: string;
  data: ColumnType<Record<string, unknown>, string, string>;
  read_at: Timestamp | null;
  created_at: Timestamp;
}

export interface Tables {
  schema_migrations: SchemaMigrationsTable;
  core_settings: CoreSettingsTable;
  accounts: AccountsTable;
  memberships: MembershipsTable;
  notifications: NotificationsTable;
  refresh_tokens: RefreshTokensTable;
  revoked_access_tokens: RevokedAccessTokensTable;
  revoked_token_families: RevokedTokenFamiliesTable;
  api_keys: ApiKeysTable;
  otp_challenges: OtpChallengesTable;
  outbox_messages: OutboxMessagesTable;
  activity_logs: ActivityLogsTable;
  payment_intents: PaymentIntentsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

/** A database handle: the pool-backed instance or an open transaction. Every repository function takes one. */
export type Executor = Kysely<Tables>;
export type Trx = Transaction<Tables>;
