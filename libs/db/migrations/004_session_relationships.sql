-- What the seven relationship events record (docs/contract.md §2): sub-agents, teams, skill
-- invocations and worktrees of a session. Names and key columns follow the fuel-code schema
-- (its migrations 005 and 006, teams session-scoped as in 006) so its queries work here.
--
-- No foreign keys: a relationship event may arrive before its session.start (or with no
-- session row ever), and is stored all the same. Every column is written by a rule that
-- commutes, so the rows are a function of the set of events, whatever their arrival order
-- or batch split. Where the earliest event of a kind wins, its time and id are kept beside
-- the values it set (*_event_id, compared by (time, id)) so a later-arriving earlier event
-- can take over. Event ids compare bytewise (COLLATE "C"), as ULIDs sort.
--
-- Ids are derived from the natural key (md5 of its parts), so a row's id is the same from
-- its first write on, whichever event made it; session_skills rows take their event's id.

-- Whether an event (at, id) comes before the one a row holds, by time then id; any event
-- comes before none. The upserts use it to let the earliest event of a kind win.
CREATE FUNCTION event_is_earlier(new_at timestamptz, new_id text, old_at timestamptz, old_id text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT new_id IS NOT NULL AND (old_id IS NULL OR (new_at, new_id COLLATE "C") < (old_at, old_id COLLATE "C"))
$$;

-- One row per (session, agent). The earliest subagent.start sets the start fields, the
-- earliest subagent.stop the stop fields. status is 'completed' once a stop is known, else
-- 'running'; no event sets 'failed' (a stop carries no outcome), it is kept for fuel-code's
-- other writers.
CREATE TABLE subagents (
  id                   TEXT PRIMARY KEY,
  session_id           TEXT NOT NULL,
  agent_id             TEXT NOT NULL,
  -- The earliest start's when a start is known, else the earliest stop's.
  agent_type           TEXT NOT NULL,
  agent_name           TEXT,
  model                TEXT,
  team_name            TEXT,
  isolation            TEXT,
  run_in_background    BOOLEAN NOT NULL DEFAULT false,
  status               TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
  started_at           TIMESTAMPTZ,
  start_event_id       TEXT COLLATE "C",
  ended_at             TIMESTAMPTZ,
  stop_event_id        TEXT COLLATE "C",
  -- subagent.stop's agent_transcript_path.
  transcript_path      TEXT,
  -- fuel-code's transcript pipeline writes these three; no event does. They are here so its
  -- queries run unchanged (teammate_id without its foreign key).
  transcript_s3_key    TEXT,
  spawning_tool_use_id TEXT,
  teammate_id          TEXT,
  is_inferred          BOOLEAN NOT NULL DEFAULT false,
  metadata             JSONB NOT NULL DEFAULT '{}'::jsonb,
  created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX idx_subagents_session_agent ON subagents (session_id, agent_id);

-- One row per (session, team). The earliest team.create sets description and created_at; a
-- team.message counts on its team, and one before any create makes the row without them.
CREATE TABLE teams (
  id                   TEXT PRIMARY KEY,
  session_id           TEXT NOT NULL,
  team_name            TEXT NOT NULL,
  description          TEXT,
  created_at           TIMESTAMPTZ,
  create_event_id      TEXT COLLATE "C",
  message_count        INTEGER NOT NULL DEFAULT 0,
  metadata             JSONB NOT NULL DEFAULT '{}'::jsonb,
  updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX idx_teams_session_name ON teams (session_id, team_name);

-- One row per skill.invoke: id = the event's id.
CREATE TABLE session_skills (
  id                   TEXT PRIMARY KEY,
  session_id           TEXT NOT NULL,
  skill_name           TEXT NOT NULL,
  invoked_at           TIMESTAMPTZ NOT NULL,
  invoked_by           TEXT,
  args                 TEXT,
  metadata             JSONB NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX idx_session_skills_session ON session_skills (session_id);
-- A hash index: skill_name has no length cap, and a btree entry holds at most about 2.7 kB.
CREATE INDEX idx_session_skills_name ON session_skills USING hash (skill_name);

-- One row per (session, worktree_name): a create and its remove pair up by that key. A
-- name that is absent, empty or blank is NULL (the client sends '' when the hook named
-- none), and NULLs pair with each other. The earliest create sets branch and created_at,
-- the earliest remove removed_at and had_changes.
CREATE TABLE session_worktrees (
  id                   TEXT PRIMARY KEY,
  session_id           TEXT NOT NULL,
  worktree_name        TEXT,
  branch               TEXT,
  created_at           TIMESTAMPTZ,
  create_event_id      TEXT COLLATE "C",
  removed_at           TIMESTAMPTZ,
  remove_event_id      TEXT COLLATE "C",
  had_changes          BOOLEAN,
  metadata             JSONB NOT NULL DEFAULT '{}'::jsonb,
  updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX idx_session_worktrees_session_name ON session_worktrees (session_id, worktree_name) NULLS NOT DISTINCT;
