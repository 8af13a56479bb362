-- The limits an execution was created with: its effective timeout in seconds (agents enforce
-- the one in its spec, the same value) and the time (ms) after which a run still queued ends
-- `expired` (NULL: it waits as long as it takes). The scheduler's tick finds the expired ones
-- by (state, queue_deadline).
ALTER TABLE executions ADD COLUMN timeout_secs BIGINT;
ALTER TABLE executions ADD COLUMN queue_deadline BIGINT;
CREATE INDEX executions_queue_deadline ON executions (state, queue_deadline);
