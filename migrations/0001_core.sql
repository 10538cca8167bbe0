-- Core: small key/value settings the platform keeps about itself (for example whether demo data was seeded).
CREATE TABLE core_settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
