-- The web UI's history across a user's projects pages by (created_at, id), newest first.
CREATE INDEX executions_created ON executions (created_at, id);
