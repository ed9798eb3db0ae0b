-- The pipeline's tables (CONTRACT §3). No foreign key points from events or sessions to
-- anything an event creates, so the order in which events arrive never matters.

CREATE TABLE workspaces (
  id             text PRIMARY KEY,
  canonical_id   text NOT NULL UNIQUE,
  display_name   text NOT NULL,
  default_branch text,
  metadata       jsonb NOT NULL DEFAULT '{}'::jsonb,
  first_seen_at  timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE devices (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  type          text NOT NULL DEFAULT 'local',
  hostname      text,
  os            text,
  arch          text,
  status        text NOT NULL DEFAULT 'online',
  metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
  first_seen_at timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL
);

-- Both parents are upserted in the same transaction just before the link, so these keys
-- cannot make arrival order matter.
CREATE TABLE workspace_devices (
  workspace_id   text NOT NULL REFERENCES workspaces (id),
  device_id      text NOT NULL REFERENCES devices (id),
  local_path     text,
  last_active_at timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, device_id)
);

CREATE TABLE sessions (
  id           text PRIMARY KEY,
  workspace_id text NOT NULL,
  device_id    text NOT NULL,
  lifecycle    text NOT NULL,
  started_at   timestamptz,
  ended_at     timestamptz,
  end_reason   text,
  duration_ms  integer,
  git_branch   text,
  model        text,
  source       text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
  id           text PRIMARY KEY,
  type         text NOT NULL,
  "timestamp"  timestamptz NOT NULL,
  device_id    text NOT NULL,
  workspace_id text NOT NULL,
  session_id   text,
  data         jsonb NOT NULL CONSTRAINT events_data_is_object CHECK (jsonb_typeof(data) = 'object'),
  blob_refs    jsonb NOT NULL DEFAULT '[]'::jsonb,
  ingested_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX events_session_id_idx ON events (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX events_workspace_timestamp_idx ON events (workspace_id, "timestamp");

-- One row per event whose handler threw: the event row is kept, the handler's writes are
-- rolled back, and this row says what to re-run and why.
CREATE TABLE event_handler_failures (
  event_id      text PRIMARY KEY,
  event_type    text NOT NULL,
  error_code    text,
  error_message text NOT NULL,
  failed_at     timestamptz NOT NULL DEFAULT now()
);
