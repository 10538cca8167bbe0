-- The search table (0062) is emptied with DELETE, not TRUNCATE, when billing_customers is truncated: a TRUNCATE of
-- several tables at once that names both (`loket db copy-to` empties its target that way) would otherwise truncate
-- billing_customer_search inside the statement that is truncating it, which PostgreSQL refuses.
CREATE OR REPLACE FUNCTION billing_customer_search_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM billing_customer_search;
  ELSE
    DELETE FROM billing_customer_search s USING removed r WHERE s.id = r.id;
  END IF;
  RETURN NULL;
END
$$;
