-- Many journals of one kind in one statement, each posted whole or not at all: what `ledger_post` (0012) does for
-- one journal, for a batch. PPOB purchases that arrive together share one statement and one commit this way
-- (`postingBatchCall` in src/core/ledger/ledger.ts is the only caller).
--
-- Journals come as the rows of 2-D arrays (one row per journal, every journal with the same number of postings,
-- each row sorted by account code as `ledger_post` expects). Every existing account the batch touches is locked
-- first, in code order (byte order, as `post()` sorts them): the same global order in which `ledger_post` takes its
-- row locks, so a batch and single journals never wait on each other in a cycle. A journal already posted under its
-- (kind, reference) is skipped with reason 'duplicate'; with the rows locked, one that would take an account that
-- may not go negative below zero is skipped with reason 'insufficient'; the others still post. Anything
-- `ledger_post` still raises fails the whole statement. An account a journal credits should exist before the batch
-- (`ensureAccounts`): one created inside it is outside that lock order, and two batches creating rows could
-- deadlock.
CREATE FUNCTION ledger_post_many(
  p_kind text,
  p_references text[],
  p_at timestamptz,
  p_codes text[],
  p_kinds text[],
  p_owners bigint[],
  p_amounts bigint[]
) RETURNS TABLE (out_index integer, out_reason text, out_journal bigint, out_balances bigint[])
LANGUAGE plpgsql AS $$
DECLARE
  n integer := coalesce(array_length(p_references, 1), 0);
  m integer := coalesce(array_length(p_codes, 2), 0);
  bal bigint;
  neg boolean;
  ok boolean;
  r record;
BEGIN
  IF array_ndims(p_codes) IS DISTINCT FROM 2 OR array_length(p_codes, 1) IS DISTINCT FROM n
     OR p_kinds IS NULL OR p_owners IS NULL OR p_amounts IS NULL
     OR array_dims(p_kinds) IS DISTINCT FROM array_dims(p_codes)
     OR array_dims(p_owners) IS DISTINCT FROM array_dims(p_codes)
     OR array_dims(p_amounts) IS DISTINCT FROM array_dims(p_codes) THEN
    RAISE EXCEPTION 'malformed journal batch %', p_kind;
  END IF;
  PERFORM 1 FROM ledger_accounts WHERE code IN (SELECT unnest(p_codes)) ORDER BY code COLLATE "C" FOR UPDATE;
  FOR i IN 1..n LOOP
    IF EXISTS (SELECT 1 FROM ledger_journals WHERE kind = p_kind AND reference = p_references[i]) THEN
      RETURN QUERY SELECT i, 'duplicate'::text, NULL::bigint, NULL::bigint[];
      CONTINUE;
    END IF;
    ok := true;
    FOR k IN 1..m LOOP
      IF p_amounts[i][k] < 0 THEN
        SELECT balance, allow_negative INTO bal, neg FROM ledger_accounts WHERE code = p_codes[i][k];
        IF NOT FOUND THEN
          bal := 0;
          neg := p_kinds[i][k] IN ('cash', 'adjustment');
        END IF;
        IF NOT neg AND bal + p_amounts[i][k] < 0 THEN
          ok := false;
          EXIT;
        END IF;
      END IF;
    END LOOP;
    IF NOT ok THEN
      RETURN QUERY SELECT i, 'insufficient'::text, NULL::bigint, NULL::bigint[];
      CONTINUE;
    END IF;
    SELECT * INTO r FROM ledger_post(
      p_kind, p_references[i], NULL, p_at,
      ARRAY(SELECT unnest(p_codes[i:i][1:m])), ARRAY(SELECT unnest(p_kinds[i:i][1:m])),
      ARRAY(SELECT unnest(p_owners[i:i][1:m])), ARRAY(SELECT unnest(p_amounts[i:i][1:m])));
    IF r.out_journal IS NULL THEN
      RETURN QUERY SELECT i, 'duplicate'::text, NULL::bigint, NULL::bigint[];
    ELSE
      RETURN QUERY SELECT i, 'ok'::text, r.out_journal, r.out_balances;
    END IF;
  END LOOP;
END
$$;
