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

export interface Tables {
  schema_migrations: SchemaMigrationsTable;
  core_settings: CoreSettingsTable;
}

/** A database handle: the pool-backed instance or an open transaction. Every repository function takes one. */
export type Executor = Kysely<Tables>;
export type Trx = Transaction<Tables>;
