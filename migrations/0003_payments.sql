-- Payments core: one row per payment Loket asked a provider for, and every webhook delivery as it arrived.

CREATE TABLE payment_intents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  reference text NOT NULL UNIQUE,
  module text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('qr', 'invoice')),
  amount bigint NOT NULL CHECK (amount > 0),
  status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED', 'EXPIRED')),
  provider text NOT NULL,
  provider_id text,
  payment_id text,
  qr_string text,
  invoice_url text,
  expires_at timestamptz,
  paid_at timestamptz,
  failure_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_intents_pending_idx ON payment_intents (expires_at) WHERE status = 'PENDING';
CREATE INDEX payment_intents_provider_idx ON payment_intents (provider_id);

CREATE TABLE webhook_deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider text NOT NULL,
  -- webhook-id header, or the provider's payment id (or our reference) with the status it reports.
  dedup_key text NOT NULL,
  reference text,
  status text,
  amount bigint,
  outcome text NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'amount_mismatch', 'unknown_reference', 'unrecognised')),
  body jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  result text
);
CREATE UNIQUE INDEX webhook_deliveries_accepted_key ON webhook_deliveries (provider, dedup_key) WHERE outcome = 'accepted';
CREATE INDEX webhook_deliveries_reference_idx ON webhook_deliveries (reference);
