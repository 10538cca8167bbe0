-- Billing reminders (issue 18): one row per invoice and kind of reminder, inserted in the transaction that writes
-- the reminder's outbox messages, so each kind goes out at most once per invoice whatever runs the job.
CREATE TABLE billing_reminders (
  invoice_id integer NOT NULL REFERENCES billing_invoices (id) ON DELETE CASCADE,
  kind varchar(8) NOT NULL CHECK (kind IN ('H-3', 'H-1', 'H0')),
  sent_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (invoice_id, kind)
);

-- Payments core: the provider account a payment was created with (NULL = the platform's own). A callback for it
-- is accepted only with that account's callback token.
ALTER TABLE payment_intents ADD COLUMN account text;
