-- A version of what the customer list shows (issue 18, the search benchmark): pages and exact counts of
-- `/api/pelanggan/` are cached per query under it (src/modules/billing/use-cases/customers.ts), so it moves when a
-- customer, a package or a brand is written (a list row shows its package and brand), and not when an invoice is:
-- billing_changes_seq (0044) also counts invoices, and a base issuing and paying invoices moves it all the time.
--
-- A sequence moves when the writing statement runs, before its commit, so a reader could take the new version and
-- still read the rows before the commit, and keep that stale page under the new version. Every writer therefore
-- holds a shared advisory lock (key 7310519064) from just before its `nextval` until its transaction ends; writers
-- never wait for each other on it. A reader that wants to keep what it computes reads the version first, then tries
-- the same lock exclusively for an instant (`pg_try_advisory_lock` and its unlock, never waiting): when that works,
-- every writer that had taken a version up to the one read has ended, so the reader's next statement sees its rows.
-- When it does not, the reader answers from the database without keeping the result.
CREATE SEQUENCE billing_customer_list_seq;

CREATE FUNCTION billing_note_customer_list_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(7310519064);
  PERFORM nextval('billing_customer_list_seq');
  RETURN NULL;
END
$$;

CREATE TRIGGER billing_customers_list_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing_customers
  FOR EACH STATEMENT EXECUTE FUNCTION billing_note_customer_list_change();
CREATE TRIGGER billing_packages_list_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing_packages
  FOR EACH STATEMENT EXECUTE FUNCTION billing_note_customer_list_change();
CREATE TRIGGER billing_brands_list_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing_brands
  FOR EACH STATEMENT EXECUTE FUNCTION billing_note_customer_list_change();
