-- A late payment may also be money for something its module had already settled another way (a billing invoice
-- paid in cash while the customer paid its Xendit link too): `after_settle`, owed back like the others.
ALTER TABLE late_payments DROP CONSTRAINT late_payments_reason_check;
ALTER TABLE late_payments
  ADD CONSTRAINT late_payments_reason_check CHECK (reason IN ('after_expiry', 'after_cancel', 'after_settle'));
