-- One balanced journal in one statement. `post()` in src/core/ledger/ledger.ts is the only caller; it passes the
-- postings already sorted by account code (the fixed lock order that keeps two journals from deadlocking).
-- A journal already posted under (kind, reference) returns a NULL journal id and changes nothing. An account that
-- may not go negative and would: SQLSTATE LK001, so the whole statement (and the caller's transaction) is undone.
CREATE FUNCTION ledger_post(
  p_kind text,
  p_reference text,
  p_memo text,
  p_at timestamptz,
  p_codes text[],
  p_kinds text[],
  p_owners bigint[],
  p_amounts bigint[]
) RETURNS TABLE (out_journal bigint, out_codes text[], out_balances bigint[])
LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(array_length(p_codes, 1), 0);
  j bigint;
  acc bigint;
  bal bigint;
  ids bigint[] := '{}';
  bals bigint[] := '{}';
BEGIN
  IF n < 2 OR (SELECT sum(a) FROM unnest(p_amounts) AS a) <> 0 OR EXISTS (SELECT 1 FROM unnest(p_amounts) AS a WHERE a = 0) THEN
    RAISE EXCEPTION 'unbalanced or invalid journal %/%', p_kind, p_reference;
  END IF;
  INSERT INTO ledger_journals (kind, reference, memo, created_at)
    VALUES (p_kind, p_reference, p_memo, p_at)
    ON CONFLICT (kind, reference) DO NOTHING
    RETURNING id INTO j;
  IF j IS NULL THEN
    RETURN QUERY SELECT NULL::bigint, NULL::text[], NULL::bigint[];
    RETURN;
  END IF;
  FOR i IN 1..n LOOP
    acc := NULL;
    UPDATE ledger_accounts
      SET balance = balance + p_amounts[i], updated_at = p_at
      WHERE code = p_codes[i] AND (allow_negative OR balance + p_amounts[i] >= 0)
      RETURNING id, balance INTO acc, bal;
    IF acc IS NULL THEN
      -- Either the account is new (perhaps being created by a concurrent journal that has not committed: the
      -- insert below waits for it) or the balance is too low; after the insert, the update tells which.
      INSERT INTO ledger_accounts (code, kind, owner_account_id, allow_negative)
        VALUES (p_codes[i], p_kinds[i], p_owners[i], p_kinds[i] IN ('cash', 'adjustment'))
        ON CONFLICT (code) DO NOTHING;
      UPDATE ledger_accounts
        SET balance = balance + p_amounts[i], updated_at = p_at
        WHERE code = p_codes[i] AND (allow_negative OR balance + p_amounts[i] >= 0)
        RETURNING id, balance INTO acc, bal;
      IF acc IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LK001', MESSAGE = 'insufficient balance', DETAIL = p_codes[i];
      END IF;
    END IF;
    ids := ids || acc;
    bals := bals || bal;
  END LOOP;
  INSERT INTO ledger_entries (journal_id, ledger_account_id, amount, created_at)
    SELECT j, e.id, e.amount, p_at FROM unnest(ids, p_amounts) AS e (id, amount);
  RETURN QUERY SELECT j, p_codes, bals;
END
$$;
