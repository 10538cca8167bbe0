-- Notifications (core): one row per recipient account, written in the transaction of the event that caused it and
-- pushed to the account's open sockets after the commit. `module` scopes a row to the module that created it (each
-- module lists and marks only its own); `data` is the event's payload as the socket message carries it.
CREATE TABLE notifications (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  module text NOT NULL,
  type text NOT NULL,
  message text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}',
  read_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- A list is one account's rows of one module, newest first; the unread count reads the partial index.
CREATE INDEX notifications_account_idx ON notifications (account_id, module, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (account_id, module) WHERE read_at IS NULL;
