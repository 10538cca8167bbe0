-- Double-entry ledger: accounts with a denormalised balance, and append-only journals whose entries sum to zero.
-- Sign convention: an entry's amount is added to its account's balance. A customer wallet holds what Loket owes
-- the customer (positive); "outside" accounts (cash received, adjustments) go negative as money comes in, so the
-- balances of all accounts always sum to zero.

CREATE TABLE ledger_accounts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('wallet', 'clearing', 'revenue', 'cash', 'adjustment')),
  owner_account_id bigint REFERENCES accounts (id),
  allow_negative boolean NOT NULL DEFAULT false,
  balance bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (allow_negative OR balance >= 0)
);
CREATE INDEX ledger_accounts_owner_idx ON ledger_accounts (owner_account_id);

CREATE TABLE ledger_journals (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,
  -- What the journal is about (a purchase id, a deposit id…); (kind, reference) is unique, which is what makes
  -- "refund at most once per purchase" a database guarantee.
  reference text NOT NULL,
  memo text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, reference)
);

CREATE TABLE ledger_entries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  journal_id bigint NOT NULL REFERENCES ledger_journals (id),
  ledger_account_id bigint NOT NULL REFERENCES ledger_accounts (id),
  amount bigint NOT NULL CHECK (amount <> 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_journal_idx ON ledger_entries (journal_id);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (ledger_account_id, id);
