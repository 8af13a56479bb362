-- Pipelines: a project's `pipelines:` entries as pushed (the spec is the nbw.yaml entry as
-- JSON), with the scheduler's next fire time, like workflows.
CREATE TABLE pipelines (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    enabled        BOOLEAN NOT NULL,
    bundle_version TEXT,
    spec           TEXT NOT NULL,
    next_fire_at   BIGINT,
    fire_error     TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE INDEX pipelines_due ON pipelines (enabled, next_fire_at);

-- One run of a pipeline. The steps (a JSON list of StepRun) change together under `version`:
-- every change is a compare-and-set on it, so two servers (or two step ends at once) never
-- start a step twice. `fire_key` makes a scheduled fire create one run; `agent_id` pins a run
-- with a shared volume to the agent that claimed its first step.
CREATE TABLE pipeline_runs (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    pipeline_id      TEXT REFERENCES pipelines (id) ON DELETE SET NULL,
    pipeline         TEXT NOT NULL,
    state            TEXT NOT NULL,
    origin           TEXT NOT NULL,
    fire_key         TEXT UNIQUE,
    scheduled_for    BIGINT,
    rerun_of         TEXT,
    message          TEXT,
    spec             TEXT NOT NULL,
    bundle_version   TEXT,
    context          TEXT NOT NULL,
    parameters       TEXT NOT NULL,
    steps            TEXT NOT NULL,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    agent_id         TEXT,
    volume           TEXT,
    keep_until       BIGINT,
    deadline         BIGINT,
    version          BIGINT NOT NULL DEFAULT 0,
    created_by       TEXT,
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    finished_at      BIGINT
);
CREATE INDEX pipeline_runs_pipeline ON pipeline_runs (pipeline_id, created_at);
CREATE INDEX pipeline_runs_state ON pipeline_runs (state);
CREATE INDEX pipeline_runs_volume ON pipeline_runs (volume);
