-- The statement /beli executes under load (src/modules/ppob/repo/purchases.ts `insertPurchases`): 50 purchases, as the
-- batcher gathers them, in one statement — `ledger_post_many` (conditional wallet debits, clearing credits) and one
-- insert of the 50 purchase rows. Random resellers, one product, one clearing row for the whole batch (chosen at
-- random here; Loket takes the next row for each statement). Purchases/s = tps × 50.
-- Run by bench/ppob.ts: pgbench -M simple -D uid_min=… -D uid_max=…
\set r random(1, 999999999999)
\set shard random(0, 63)
WITH items AS (
  SELECT g, 'PB' || :client_id::text || 'x' || :r::text || 'n' || g::text AS trx_id,
    (:uid_min + floor(random() * (:uid_max - :uid_min + 1)))::bigint AS uid,
    :shard::int AS shard
  FROM generate_series(1, 50) AS g
), posted AS (
  SELECT * FROM ledger_post_many('ppob.purchase',
    (SELECT array_agg(trx_id ORDER BY g) FROM items), now(),
    (SELECT array_agg(ARRAY['clearing:ppob:provider#' || shard::text, 'wallet:ppob:' || uid::text] ORDER BY g) FROM items),
    (SELECT array_agg(ARRAY['clearing', 'wallet'] ORDER BY g) FROM items),
    (SELECT array_agg(ARRAY[NULL, uid] ORDER BY g) FROM items),
    (SELECT array_agg(ARRAY[1000::bigint, -1000::bigint] ORDER BY g) FROM items))
), recorded AS (
  INSERT INTO ppob_transactions (trx_id, account_id, produk_id, kode_produk, nomor_tujuan, hasil_eksekusi,
    nama_produk, nama_user, email_user, harga, sisa_saldo, provider, waktu, next_check_at, clearing_shard)
  SELECT i.trx_id, a.id, 1, 'B000', '081234567890', 'Transaksi sedang diproses', 'Pulsa bench 0', a.name, a.email,
    1000, p.out_balances[2], 'simulator', now(), now(), i.shard
  FROM posted p JOIN items i ON i.g = p.out_index JOIN accounts a ON a.id = i.uid
  WHERE p.out_reason = 'ok'
  RETURNING trx_id
)
SELECT p.out_index, p.out_reason, (SELECT count(*) FROM recorded) FROM posted p;
