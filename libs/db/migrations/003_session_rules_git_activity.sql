-- Issue 12 §2: every rule is a function of the set of events, whatever their arrival order,
-- batch split or number of workers (docs/adr, git-session link). Each "which event decided
-- this" pair below (a time and an event id) is what a later-arriving event compares itself
-- against: earlier/later by event time, then by event id.

-- Sessions: the earliest start sets the start fields, the earliest end the end fields.
-- start_event_id NULL: no start seen yet (started_at is then estimated from the end).
-- duration_ms_sent: the end's duration as sent (hooks send 0; duration_ms is then
-- ended_at - started_at once the start is known). compact_sequence: the highest seen.
-- placed_at/placed_by: the event whose workspace and device the row carries (the start's
-- when there is one, else the earliest event's). moved_from_*: the key the row had before
-- the statement that last wrote it, when that statement moved it (the git relink locks it).
ALTER TABLE sessions
  ADD COLUMN start_event_id          text,
  ADD COLUMN end_event_id            text,
  ADD COLUMN duration_ms_sent        integer,
  ADD COLUMN compact_sequence        integer,
  ADD COLUMN placed_at               timestamptz,
  ADD COLUMN placed_by               text,
  ADD COLUMN moved_from_workspace_id text,
  ADD COLUMN moved_from_device_id    text;

-- Backfill from the stored events: the starts and ends that set the rows (the earliest by the
-- new rule; the old rule kept the last one, so a session with several starts is recomputed).
UPDATE sessions s
SET start_event_id = f.id, started_at = f."timestamp",
    git_branch = f.data->>'git_branch', model = f.data->>'model', source = f.data->>'source'
FROM (SELECT DISTINCT ON (session_id) session_id, id, "timestamp", data FROM events
      WHERE type = 'session.start' AND session_id IS NOT NULL
      ORDER BY session_id, "timestamp", id) f
WHERE f.session_id = s.id;

UPDATE sessions s
SET end_event_id = f.id, ended_at = f."timestamp", end_reason = f.data->>'end_reason',
    duration_ms_sent = CASE WHEN jsonb_typeof(f.data->'duration_ms') = 'number'
                             AND (f.data->>'duration_ms')::numeric BETWEEN 0 AND 2147483647
                            THEN (f.data->>'duration_ms')::numeric::integer ELSE s.duration_ms END,
    lifecycle = 'ended'
FROM (SELECT DISTINCT ON (session_id) session_id, id, "timestamp", data FROM events
      WHERE type = 'session.end' AND session_id IS NOT NULL
      ORDER BY session_id, "timestamp", id) f
WHERE f.session_id = s.id;

UPDATE sessions SET duration_ms_sent = duration_ms WHERE end_event_id IS NULL AND duration_ms IS NOT NULL;
UPDATE sessions SET started_at = ended_at - make_interval(secs => duration_ms_sent / 1000.0)
WHERE start_event_id IS NULL AND ended_at IS NOT NULL AND duration_ms_sent IS NOT NULL;

-- duration_ms of ended sessions, by the same rule as sql/sessions.ts.
CREATE FUNCTION fuel_session_duration_ms(has_start boolean, started_at timestamptz, ended_at timestamptz, sent integer)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN sent IS NULL THEN NULL
    WHEN sent = 0 AND has_start AND started_at IS NOT NULL AND ended_at IS NOT NULL
      THEN LEAST(GREATEST(round(extract(epoch FROM ended_at - started_at) * 1000), 0), 2147483647)::integer
    ELSE sent
  END
$$;

UPDATE sessions SET duration_ms = fuel_session_duration_ms(start_event_id IS NOT NULL, started_at, ended_at, duration_ms_sent)
WHERE end_event_id IS NOT NULL OR duration_ms_sent IS NOT NULL;

UPDATE sessions s
SET placed_at = COALESCE(
      CASE WHEN s.start_event_id IS NOT NULL THEN s.started_at END,
      (SELECT min(e."timestamp") FROM events e WHERE e.session_id = s.id AND e.type IN ('session.end', 'session.compact')),
      s.started_at, s.created_at),
    placed_by = COALESCE(s.start_event_id, (
      SELECT e.id FROM events e WHERE e.session_id = s.id AND e.type IN ('session.end', 'session.compact')
      ORDER BY e."timestamp", e.id LIMIT 1), '');

-- The git link looks up the sessions of a workspace and device by start time.
CREATE INDEX sessions_workspace_device_started_idx ON sessions (workspace_id, device_id, started_at, id);

-- Devices: the latest event with a `_device_name` (`_device_type`) hint names (types) the
-- device. Without one: the device id and 'local', as before.
ALTER TABLE devices
  ADD COLUMN name_at       timestamptz,
  ADD COLUMN name_event_id text,
  ADD COLUMN type_at       timestamptz,
  ADD COLUMN type_event_id text;

-- Events stored before this migration still carry the hints in their data.
UPDATE devices d SET name = h.name, name_at = h."timestamp", name_event_id = h.id
FROM (SELECT DISTINCT ON (device_id) device_id, data->>'_device_name' AS name, "timestamp", id FROM events
      WHERE jsonb_typeof(data->'_device_name') = 'string' AND btrim(data->>'_device_name') <> ''
      ORDER BY device_id, "timestamp" DESC, id DESC) h
WHERE h.device_id = d.id;
UPDATE devices d SET type = h.type, type_at = h."timestamp", type_event_id = h.id
FROM (SELECT DISTINCT ON (device_id) device_id, data->>'_device_type' AS type, "timestamp", id FROM events
      WHERE jsonb_typeof(data->'_device_type') = 'string' AND btrim(data->>'_device_type') <> ''
      ORDER BY device_id, "timestamp" DESC, id DESC) h
WHERE h.device_id = d.id;

-- Workspaces: default_branch is the git_branch of the latest session.start with one.
ALTER TABLE workspaces
  ADD COLUMN default_branch_at       timestamptz,
  ADD COLUMN default_branch_event_id text;

UPDATE workspaces w
SET default_branch = l.branch, default_branch_at = l."timestamp", default_branch_event_id = l.id
FROM (SELECT DISTINCT ON (workspace_id) workspace_id, data->>'git_branch' AS branch, "timestamp", id FROM events
      WHERE type = 'session.start' AND jsonb_typeof(data->'git_branch') = 'string' AND data->>'git_branch' <> ''
      ORDER BY workspace_id, "timestamp" DESC, id DESC) l
WHERE l.workspace_id = w.id;

-- display_name by the fuel-code rule (sql/workspaces.ts displayNameOf).
UPDATE workspaces
SET display_name = CASE
  WHEN canonical_id LIKE 'local:%' THEN 'local-' || left(substr(canonical_id, 7), 8)
  ELSE COALESCE((SELECT p FROM unnest(string_to_array(canonical_id, '/')) WITH ORDINALITY AS t(p, n)
                 WHERE p <> '' ORDER BY n DESC LIMIT 1), canonical_id)
END;

-- One row per git event, named as in the fuel-code schema so its queries work. No foreign
-- keys: a git event is stored whatever arrived before it. session_id is the session on the
-- same workspace and device whose [started_at, ended_at] (open: [started_at, ∞)) covers the
-- event's time, the most recently started if several, else NULL; the batch that changes it
-- recomputes it (sql/git-activity.ts).
CREATE TABLE git_activity (
  id            text PRIMARY KEY,
  workspace_id  text NOT NULL,
  device_id     text NOT NULL,
  session_id    text,
  type          text NOT NULL CHECK (type IN ('commit', 'push', 'checkout', 'merge')),
  branch        text,
  commit_sha    text,
  message       text,
  files_changed integer,
  insertions    integer,
  deletions     integer,
  "timestamp"   timestamptz NOT NULL,
  data          jsonb NOT NULL DEFAULT '{}'::jsonb,
  worktree_name text,
  is_worktree   boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX git_activity_session_idx ON git_activity (session_id) WHERE session_id IS NOT NULL;
-- Serves the relink and, by its prefix, queries by workspace.
CREATE INDEX git_activity_workspace_device_time_idx ON git_activity (workspace_id, device_id, "timestamp");

-- Git events stored before this migration, as the git handler maps them (leniently: a field
-- of the wrong JSON type is left NULL), linked by the rule above.
CREATE FUNCTION pg_temp.fuel_count(v jsonb) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(v) = 'number' AND v::text::numeric BETWEEN 0 AND 2147483647
                   AND v::text::numeric = trunc(v::text::numeric)
              THEN v::text::numeric::integer END
$$;
CREATE FUNCTION pg_temp.fuel_text(v jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(v) = 'string' THEN v #>> '{}' END
$$;

INSERT INTO git_activity (id, workspace_id, device_id, type, branch, commit_sha, message, files_changed, insertions,
                          deletions, "timestamp", data, worktree_name, is_worktree)
SELECT e.id, e.workspace_id, e.device_id, substr(e.type, 5),
       CASE e.type WHEN 'git.checkout' THEN COALESCE(pg_temp.fuel_text(d->'to_branch'), pg_temp.fuel_text(d->'to_ref'))
                   WHEN 'git.merge' THEN pg_temp.fuel_text(d->'into_branch') ELSE pg_temp.fuel_text(d->'branch') END,
       CASE e.type WHEN 'git.commit' THEN pg_temp.fuel_text(d->'hash') WHEN 'git.merge' THEN pg_temp.fuel_text(d->'merge_commit') END,
       CASE WHEN e.type IN ('git.commit', 'git.merge') THEN pg_temp.fuel_text(d->'message') END,
       CASE WHEN e.type IN ('git.commit', 'git.merge') THEN pg_temp.fuel_count(d->'files_changed') END,
       CASE WHEN e.type = 'git.commit' THEN pg_temp.fuel_count(d->'insertions') END,
       CASE WHEN e.type = 'git.commit' THEN pg_temp.fuel_count(d->'deletions') END,
       e."timestamp",
       CASE e.type
         WHEN 'git.commit' THEN jsonb_build_object('author_name', d->'author_name', 'author_email', d->'author_email', 'file_list', d->'file_list')
         WHEN 'git.push' THEN jsonb_build_object('remote', d->'remote', 'commit_count', d->'commit_count', 'commits', d->'commits')
         WHEN 'git.checkout' THEN jsonb_build_object('from_ref', d->'from_ref', 'to_ref', d->'to_ref', 'from_branch', d->'from_branch', 'to_branch', d->'to_branch')
         ELSE jsonb_build_object('merged_branch', d->'merged_branch', 'had_conflicts', d->'had_conflicts')
       END,
       NULLIF(pg_temp.fuel_text(d->'worktree_name'), ''),
       COALESCE(d->'is_worktree' = 'true'::jsonb, false)
FROM events e CROSS JOIN LATERAL (SELECT e.data AS d) x
WHERE e.type IN ('git.commit', 'git.push', 'git.checkout', 'git.merge');

UPDATE git_activity g SET session_id = (
  SELECT s.id FROM sessions s
  WHERE s.workspace_id = g.workspace_id AND s.device_id = g.device_id
    AND s.started_at <= g."timestamp" AND (s.ended_at IS NULL OR s.ended_at >= g."timestamp")
  ORDER BY s.started_at DESC, s.id DESC LIMIT 1);
UPDATE events e SET session_id = g.session_id
FROM git_activity g WHERE g.id = e.id AND e.session_id IS DISTINCT FROM g.session_id;
