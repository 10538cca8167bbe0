-- Billing module (seed 003): brands carry the billing rules of an ISP's product line (CONTRACTS §4).

CREATE TABLE billing_brands (
  id_brand varchar(50) PRIMARY KEY,
  brand varchar(100) NOT NULL,
  pajak numeric(5, 2) NOT NULL DEFAULT 0 CHECK (pajak >= 0 AND pajak <= 100),
  xendit_key_name varchar(50),
  due_day smallint NOT NULL DEFAULT 10 CHECK (due_day BETWEEN 1 AND 28),
  invoice_days_before smallint NOT NULL DEFAULT 5 CHECK (invoice_days_before BETWEEN 0 AND 28),
  grace_days smallint NOT NULL DEFAULT 5 CHECK (grace_days BETWEEN 0 AND 60),
  isolation_profile varchar(64) NOT NULL DEFAULT 'ISOLIR',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
