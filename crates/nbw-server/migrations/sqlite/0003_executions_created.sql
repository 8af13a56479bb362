-- The web UI's history across a user's projects pages by (created_at, id), newest first, with
-- or without a state or origin filter.
CREATE INDEX executions_created ON executions (created_at, id);
CREATE INDEX executions_state_created ON executions (state, created_at, id);
CREATE INDEX executions_origin_created ON executions (origin, created_at, id);
