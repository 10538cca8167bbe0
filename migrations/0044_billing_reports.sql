-- Billing reports and the dashboard (seed 003): indexes for reading the ledger back by journal date and account
-- prefix, and for the loyalty segments. Nothing here changes data.

-- Journals of a kind in a date range (payments of a month): src/core/ledger/read.ts `postings({from, to})`.
CREATE INDEX ledger_journals_kind_at_idx ON ledger_journals (kind, created_at);
-- Accounts under a code prefix (`receivable:billing:`): LIKE 'prefix%' needs pattern ordering in any collation.
CREATE INDEX ledger_accounts_code_prefix_idx ON ledger_accounts (code text_pattern_ops);

-- Loyalty: customers who ever paid after the due date (the payment's date in UTC+7, billing's calendar). The
-- predicate is the one src/modules/billing/repo/reports.ts writes, so the planner reads this small index instead
-- of every paid invoice.
CREATE INDEX billing_invoices_paid_late_idx ON billing_invoices (pelanggan_id)
  WHERE paid_at IS NOT NULL AND ((paid_at AT TIME ZONE 'UTC') + interval '7 hours')::date > tanggal_jatuh_tempo;
-- Loyalty and aging: invoices issued and still to pay, by customer and due date.
CREATE INDEX billing_invoices_unpaid_idx ON billing_invoices (pelanggan_id, tanggal_jatuh_tempo)
  WHERE status_invoice IN ('Menunggu Pembayaran', 'Jatuh Tempo');
-- The invoice summary chart: counts per period and status read from the index alone.
CREATE INDEX billing_invoices_periode_status_idx ON billing_invoices (periode, status_invoice);
-- The dashboard's cache is checked against a change counter (repo/reports.ts `fingerprint`): every statement that
-- writes a row the dashboard counts takes the next value. A sequence takes no lock and is never rolled back, so
-- writers do not wait for each other here, and a rolled-back write only costs one needless recomputation.
CREATE SEQUENCE billing_changes_seq;
CREATE FUNCTION billing_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM nextval('billing_changes_seq');
  RETURN NULL;
END
$$;
CREATE TRIGGER billing_invoices_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing_invoices
  FOR EACH STATEMENT EXECUTE FUNCTION billing_note_change();
CREATE TRIGGER billing_customers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing_customers
  FOR EACH STATEMENT EXECUTE FUNCTION billing_note_change();
CREATE TRIGGER billing_brands_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing_brands
  FOR EACH STATEMENT EXECUTE FUNCTION billing_note_change();
CREATE TRIGGER billing_packages_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing_packages
  FOR EACH STATEMENT EXECUTE FUNCTION billing_note_change();
