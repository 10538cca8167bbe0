-- PPOB purchases are driven by their own rows: a pending purchase is due for a provider call at `next_check_at`.
-- The dispatcher claims due rows (FOR UPDATE SKIP LOCKED) and pushes `next_check_at` forward by a lease, so a
-- purchase whose instance died mid-call is picked up again when the lease runs out. A final purchase has none.
ALTER TABLE ppob_transactions ADD COLUMN next_check_at timestamptz;
UPDATE ppob_transactions SET next_check_at = waktu WHERE status = 'pending';
DROP INDEX ppob_transactions_pending_idx;
CREATE INDEX ppob_transactions_due_idx ON ppob_transactions (next_check_at) WHERE status = 'pending';
