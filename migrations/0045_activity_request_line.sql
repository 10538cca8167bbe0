-- The activity log remembers the request line that made each change (`POST /api/pelanggan/`): a client that shows
-- the log as requests (billing's original frontend colours each entry by its HTTP method) reads it as it was sent.
-- Rows written outside a request (jobs, the CLI) leave both empty.
ALTER TABLE activity_logs ADD COLUMN method text;
ALTER TABLE activity_logs ADD COLUMN path text;
