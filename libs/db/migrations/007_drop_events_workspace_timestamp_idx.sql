-- No read uses events (workspace_id, "timestamp"): the console reads events by session
-- (events_session_id_idx) and by ingest time (events_ingested_at_brin), the worker by id.
-- Every stored event paid an entry in it. docs/adr/011-store-path-indexes.md says how to
-- add it back for a reader that needs it.
DROP INDEX IF EXISTS events_workspace_timestamp_idx;
