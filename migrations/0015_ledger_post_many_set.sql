-- `ledger_post_many` (0014) again, with the same arguments, rules and results, but posting the batch with a handful
-- of set-based statements instead of one `ledger_post` call per journal. Under load the per-journal calls (eight
-- statements each) were most of the database's CPU for a PPOB purchase.
--
-- How: every existing account the batch touches is locked first, in code order (byte order), as before, and its
-- balance read. The journals are then decided in their order in memory: a journal already posted (or repeated
-- earlier in the batch) is 'duplicate'; one that would take an account that may not go negative below zero is
-- 'insufficient' and changes nothing; the others are 'ok' and move the running balances. Then one insert creates
-- the accounts that ok journals credit and that did not exist (they should: `ensureAccounts`), one insert the
-- journals, one update every touched balance, one insert the entries. `out_balances` are the balances right after
-- each journal, as `ledger_post` reports them. If a concurrent statement inserted the same (kind, reference) after
-- the check, the whole statement fails and the caller posts the journals one by one; the balance CHECK constraint
-- stays the last guard against an overdraft.
CREATE OR REPLACE FUNCTION ledger_post_many(
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
  -- The accounts the batch touches, in code order: id (NULL until created), balance, may go negative, kind, owner.
  a_codes text[];
  a_ids bigint[];
  a_bals bigint[];
  a_neg boolean[];
  a_kinds text[];
  a_owners bigint[];
  a_start bigint[];
  a_touched boolean[];
  posted text[];
  reasons text[] := '{}';
  bals bigint[] := '{}';
  ok_refs text[] := '{}';
  ok_index integer[] := '{}';
  e_pos integer[] := '{}';
  e_acc integer[] := '{}';
  e_amt bigint[] := '{}';
  j_ids bigint[];
  inserted integer;
  x integer;
  aid bigint;
  good boolean;
  s bigint;
BEGIN
  IF array_ndims(p_codes) IS DISTINCT FROM 2 OR array_length(p_codes, 1) IS DISTINCT FROM n OR m < 2
     OR p_kinds IS NULL OR p_owners IS NULL OR p_amounts IS NULL
     OR array_dims(p_kinds) IS DISTINCT FROM array_dims(p_codes)
     OR array_dims(p_owners) IS DISTINCT FROM array_dims(p_codes)
     OR array_dims(p_amounts) IS DISTINCT FROM array_dims(p_codes) THEN
    RAISE EXCEPTION 'malformed journal batch %', p_kind;
  END IF;
  FOR i IN 1..n LOOP
    s := 0;
    FOR k IN 1..m LOOP
      IF p_amounts[i][k] IS NULL OR p_amounts[i][k] = 0 OR p_codes[i][k] IS NULL THEN
        RAISE EXCEPTION 'unbalanced or invalid journal %/%', p_kind, p_references[i];
      END IF;
      s := s + p_amounts[i][k];
    END LOOP;
    IF s <> 0 THEN
      RAISE EXCEPTION 'unbalanced or invalid journal %/%', p_kind, p_references[i];
    END IF;
  END LOOP;

  -- Every code, its kind and owner from the first posting that names it; existing rows locked in code order.
  SELECT array_agg(c.code ORDER BY c.code COLLATE "C"), array_agg(c.kind ORDER BY c.code COLLATE "C"),
         array_agg(c.owner ORDER BY c.code COLLATE "C")
    INTO a_codes, a_kinds, a_owners
    FROM (SELECT DISTINCT ON (u.code) u.code, u.kind, u.owner
            FROM unnest(p_codes, p_kinds, p_owners) WITH ORDINALITY AS u (code, kind, owner, o)
           ORDER BY u.code, u.o) c;
  PERFORM 1 FROM ledger_accounts WHERE code = ANY (a_codes) ORDER BY code COLLATE "C" FOR UPDATE;
  SELECT array_agg(l.id ORDER BY x.o), array_agg(l.balance ORDER BY x.o), array_agg(l.allow_negative ORDER BY x.o)
    INTO a_ids, a_bals, a_neg
    FROM unnest(a_codes) WITH ORDINALITY AS x (code, o)
    LEFT JOIN ledger_accounts l ON l.code = x.code;
  FOR c IN 1..array_length(a_codes, 1) LOOP
    IF a_ids[c] IS NULL THEN
      a_bals[c] := 0;
      a_neg[c] := a_kinds[c] IN ('cash', 'adjustment');
    END IF;
  END LOOP;
  a_start := a_bals;
  a_touched := array_fill(false, ARRAY[array_length(a_codes, 1)]);
  SELECT coalesce(array_agg(reference), '{}') INTO posted
    FROM ledger_journals WHERE kind = p_kind AND reference = ANY (p_references);

  FOR i IN 1..n LOOP
    IF p_references[i] = ANY (posted) THEN
      reasons := reasons || 'duplicate'::text;
      CONTINUE;
    END IF;
    good := true;
    FOR k IN 1..m LOOP
      x := array_position(a_codes, p_codes[i][k]);
      IF NOT a_neg[x] AND a_bals[x] + p_amounts[i][k] < 0 THEN
        good := false;
        EXIT;
      END IF;
    END LOOP;
    IF NOT good THEN
      reasons := reasons || 'insufficient'::text;
      CONTINUE;
    END IF;
    posted := posted || p_references[i];
    ok_refs := ok_refs || p_references[i];
    ok_index := ok_index || i;
    FOR k IN 1..m LOOP
      x := array_position(a_codes, p_codes[i][k]);
      a_bals[x] := a_bals[x] + p_amounts[i][k];
      a_touched[x] := true;
      bals := bals || a_bals[x];
      e_pos := e_pos || array_length(ok_refs, 1);
      e_acc := e_acc || x;
      e_amt := e_amt || p_amounts[i][k];
    END LOOP;
    reasons := reasons || 'ok'::text;
  END LOOP;

  IF array_length(ok_refs, 1) > 0 THEN
    -- Accounts an ok journal touches that did not exist (a concurrent statement may create one first: then the
    -- relative update below adds to what it holds, under the CHECK constraint).
    IF EXISTS (SELECT 1 FROM generate_subscripts(a_codes, 1) AS c WHERE a_touched[c] AND a_ids[c] IS NULL) THEN
      INSERT INTO ledger_accounts (code, kind, owner_account_id, allow_negative)
        SELECT a_codes[c], a_kinds[c], a_owners[c], a_kinds[c] IN ('cash', 'adjustment')
          FROM generate_subscripts(a_codes, 1) AS c
         WHERE a_touched[c] AND a_ids[c] IS NULL
         ORDER BY a_codes[c] COLLATE "C"
        ON CONFLICT (code) DO NOTHING;
      FOR c IN 1..array_length(a_codes, 1) LOOP
        IF a_touched[c] AND a_ids[c] IS NULL THEN
          SELECT id INTO STRICT aid FROM ledger_accounts WHERE code = a_codes[c] FOR UPDATE;
          a_ids[c] := aid;
        END IF;
      END LOOP;
    END IF;

    WITH ins AS (
      INSERT INTO ledger_journals (kind, reference, memo, created_at)
        SELECT p_kind, r.ref, NULL, p_at FROM unnest(ok_refs) WITH ORDINALITY AS r (ref, o) ORDER BY r.o
        ON CONFLICT (kind, reference) DO NOTHING
        RETURNING id, reference
    )
    SELECT array_agg(ins.id ORDER BY r.o), count(*) INTO j_ids, inserted
      FROM unnest(ok_refs) WITH ORDINALITY AS r (ref, o) JOIN ins ON ins.reference = r.ref;
    IF inserted <> array_length(ok_refs, 1) THEN
      RAISE EXCEPTION 'journal batch %: a reference was posted concurrently', p_kind;
    END IF;

    UPDATE ledger_accounts l
       SET balance = l.balance + (a_bals[c] - a_start[c]), updated_at = p_at
      FROM generate_subscripts(a_codes, 1) AS c
     WHERE a_touched[c] AND l.id = a_ids[c];

    INSERT INTO ledger_entries (journal_id, ledger_account_id, amount, created_at)
      SELECT j_ids[e.pos], a_ids[e.acc], e.amt, p_at
        FROM unnest(e_pos, e_acc, e_amt) WITH ORDINALITY AS e (pos, acc, amt, o)
       ORDER BY e.o;
  END IF;

  x := 0;
  FOR i IN 1..n LOOP
    out_index := i;
    out_reason := reasons[i];
    IF reasons[i] = 'ok' THEN
      x := x + 1;
      out_journal := j_ids[x];
      out_balances := bals[(x - 1) * m + 1:x * m];
    ELSE
      out_journal := NULL;
      out_balances := NULL;
    END IF;
    RETURN NEXT;
  END LOOP;
END
$$;
