-- Indexes for the operator console's read models (libs/console).
--
-- events per minute over the last hour: a BRIN index on ingested_at. Rows are appended in
-- ingest order and never updated, so ingested_at follows the physical order and a BRIN index
-- finds the last hour's pages while costing the write path almost nothing (a btree would add
-- an entry per inserted event).
CREATE INDEX IF NOT EXISTS events_ingested_at_brin ON events USING brin (ingested_at);

-- Recent sessions, newest first. created_at is set once, so this index never stops a session
-- update from being HOT (an index on updated_at would, on every session event).
CREATE INDEX IF NOT EXISTS sessions_created_at_idx ON sessions (created_at DESC, id DESC);
