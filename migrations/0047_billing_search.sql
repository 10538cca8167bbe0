-- Billing customer search at scale: `search` matches nama, email and no_telp with ILIKE '%term%', which no b-tree
-- can answer. Trigram GIN indexes (pg_trgm, a trusted extension; the embedded database loads it too) turn each
-- of the three into an index scan, OR-ed in one bitmap; a term shorter than three characters still scans.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX billing_customers_nama_trgm ON billing_customers USING gin (nama gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX billing_customers_email_trgm ON billing_customers USING gin (email gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX billing_customers_telp_trgm ON billing_customers USING gin (no_telp gin_trgm_ops) WHERE deleted_at IS NULL;
