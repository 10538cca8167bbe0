-- The statement one POST /beli executes (src/modules/ppob/repo/purchases.ts `insertPurchase`), with pgbench variables where the
-- application binds parameters: the ledger journal (conditional wallet debit, clearing credit on one of 64 rows)
-- and the purchase row, in one round trip. Run by bench/ppob.ts: pgbench -M simple -D uid_min=… -D uid_max=…
\set uid random(:uid_min, :uid_max)
\set r random(1, 999999999999)
\set shard random(0, 63)
WITH posted AS (SELECT * FROM ledger_post('ppob.purchase', 'PG' || :client_id::text || 'x' || :r::text, NULL, now(), ARRAY['clearing:ppob:provider#' || :shard::text, 'wallet:ppob:' || :uid::text]::text[], ARRAY['clearing', 'wallet']::text[], ARRAY[NULL, :uid::bigint]::bigint[], ARRAY[1000, -1000]::bigint[])) INSERT INTO ppob_transactions (trx_id, account_id, produk_id, kode_produk, nomor_tujuan, hasil_eksekusi, nama_produk, nama_user, email_user, harga, sisa_saldo, provider, waktu, next_check_at, clearing_shard) SELECT 'PG' || :client_id::text || 'x' || :r::text, a.id, 1, 'B000', '081234567890', 'Transaksi sedang diproses', 'Pulsa bench 0', a.name, a.email, 1000, posted.out_balances[2], 'simulator', now(), now(), :shard FROM posted JOIN accounts a ON a.id = :uid::bigint WHERE posted.out_journal IS NOT NULL RETURNING sisa_saldo;
