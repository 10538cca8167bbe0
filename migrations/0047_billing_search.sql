-- Billing customer search at scale: `search` matches nama, email and no_telp with ILIKE '%term%', which no b-tree
-- can answer. Trigram GIN indexes (pg_trgm, a trusted extension; the embedded database loads it too) turn each
-- of the three into an index scan, OR-ed in one bitmap; a term shorter than three characters still scans.
-- fastupdate is off: with it, rows written in bulk (an import, the generator) wait in the index's pending list,
-- which every search reads in full until a vacuum (measured: 180-1,000 ms per search after 100,000 inserts).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX billing_customers_nama_trgm ON billing_customers USING gin (nama gin_trgm_ops) WITH (fastupdate = off) WHERE deleted_at IS NULL;
CREATE INDEX billing_customers_email_trgm ON billing_customers USING gin (email gin_trgm_ops) WITH (fastupdate = off) WHERE deleted_at IS NULL;
CREATE INDEX billing_customers_telp_trgm ON billing_customers USING gin (no_telp gin_trgm_ops) WITH (fastupdate = off) WHERE deleted_at IS NULL;
