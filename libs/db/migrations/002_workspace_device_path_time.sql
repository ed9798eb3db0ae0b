-- When the event that gave workspace_devices.local_path happened. The latest event's path
-- wins, whatever order events arrive or batches commit in (CONTRACT §3: arrival order must
-- not matter); without it the last transaction to commit won. Rows from before this
-- migration have none: the next path seen replaces theirs.
ALTER TABLE workspace_devices ADD COLUMN local_path_at timestamptz;
