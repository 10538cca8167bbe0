-- Payments that arrived for a payment Loket no longer waited for (expired, or cancelled at the kiosk): the money is
-- at the provider, the module's record stays EXPIRED, and an operator owes the payer a refund. One row per payment
-- (a dynamic QR code is paid at most once); the ledger holds the money as owed (see src/core/payments/late.ts).
CREATE TABLE late_payments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  intent_id bigint NOT NULL REFERENCES payment_intents (id),
  reference text NOT NULL UNIQUE,
  module text NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  provider_payment_id text,
  reason text NOT NULL CHECK (reason IN ('after_expiry', 'after_cancel')),
  status text NOT NULL DEFAULT 'TO_REFUND' CHECK (status IN ('TO_REFUND', 'REFUNDED')),
  paid_at timestamptz NOT NULL,
  refunded_at timestamptz,
  refunded_by bigint REFERENCES accounts (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX late_payments_module_idx ON late_payments (module, status, id);
CREATE INDEX late_payments_intent_idx ON late_payments (intent_id);
CREATE INDEX late_payments_refunded_by_idx ON late_payments (refunded_by);
