-- Login families whose access tokens stop working at once (a reused refresh token, a logout): kept until the last
-- access token the family could hold has expired. Every instance reads them at start and after a bus break.
CREATE TABLE revoked_token_families (
  family_id text PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_token_families_expires_idx ON revoked_token_families (expires_at);
