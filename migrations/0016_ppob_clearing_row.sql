-- A purchase names the clearing row (`clearing:ppob:provider#n`) its money was posted to, so that its settlement or
-- refund takes it back from that row. Purchases written together are posted to one row of their own, which keeps
-- concurrent batches from waiting on each other's row locks. Earlier purchases keep NULL: their row is the one
-- their trx_id hashes to, as before.
ALTER TABLE ppob_transactions ADD COLUMN clearing_shard smallint;
