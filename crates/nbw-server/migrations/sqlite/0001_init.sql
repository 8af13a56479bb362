-- nbw schema, version 1. Times are UTC epoch milliseconds (BIGINT) and JSON is TEXT, so the
-- SQLite and PostgreSQL schemas (and most queries) are the same text.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL
);

-- Opaque refresh tokens, stored hashed. A refresh rotates the token within its family; reuse
-- of a used token revokes the whole family.
CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Failed logins per key (username, and client address), for rate limiting.
CREATE TABLE login_failures (
    key           TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    window_start  BIGINT NOT NULL,
    locked_until  BIGINT
);

CREATE TABLE projects (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE members (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

-- Uploaded project bundles: the archive is stored once per digest in the object store.
CREATE TABLE bundles (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version     TEXT NOT NULL,
    digest      TEXT NOT NULL,
    format      TEXT NOT NULL,
    size        BIGINT NOT NULL,
    notebooks   TEXT NOT NULL,
    uploaded_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (project_id, version)
);

CREATE TABLE workflows (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    spec            TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    next_fire_at    BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE INDEX workflows_due ON workflows (enabled, next_fire_at);

CREATE TABLE agents (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    labels            TEXT NOT NULL,
    token_hash        TEXT NOT NULL UNIQUE,
    created_by        TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at        BIGINT NOT NULL,
    last_heartbeat_at BIGINT,
    revoked_at        BIGINT
);

CREATE TABLE executions (
    id                 TEXT PRIMARY KEY,
    project_id         TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    workflow_id        TEXT REFERENCES workflows (id) ON DELETE SET NULL,
    origin             TEXT NOT NULL,
    state              TEXT NOT NULL,
    spec               TEXT NOT NULL,
    labels             TEXT NOT NULL,
    attempt            BIGINT NOT NULL DEFAULT 1,
    first_attempt_id   TEXT,
    previous_attempt_id TEXT,
    fire_key           TEXT UNIQUE,
    scheduled_for      BIGINT,
    not_before         BIGINT NOT NULL,
    agent_id           TEXT REFERENCES agents (id) ON DELETE SET NULL,
    lease_until        BIGINT,
    cancel_requested   BOOLEAN NOT NULL DEFAULT FALSE,
    created_by         TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at         BIGINT NOT NULL,
    claimed_at         BIGINT,
    started_at         BIGINT,
    finished_at        BIGINT,
    result             TEXT,
    output_key         TEXT,
    last_seq           BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX executions_queue ON executions (state, not_before);
CREATE INDEX executions_project ON executions (project_id, created_at);
CREATE INDEX executions_workflow ON executions (workflow_id, created_at);
CREATE INDEX executions_lease ON executions (state, lease_until);

-- The event stream of an execution (cell events, output chunks), replayable over SSE.
CREATE TABLE execution_events (
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (execution_id, seq)
);

CREATE TABLE runtimes (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    image           TEXT NOT NULL,
    dockerfile_hash TEXT,
    image_id        TEXT,
    created_at      BIGINT NOT NULL,
    UNIQUE (project_id, name, version)
);

-- Secret values, encrypted (XChaCha20-Poly1305, nonce || ciphertext, base64) with the server's
-- master key of `key_version`; the project id and name are the associated data.
CREATE TABLE secrets (
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    ciphertext  TEXT NOT NULL,
    key_version BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, name)
);

-- Notifications to deliver, with retries and backoff.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    execution_id    TEXT REFERENCES executions (id) ON DELETE CASCADE,
    channel         TEXT NOT NULL,
    target          TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- Leases for singleton loops (the scheduler leader) where no advisory lock exists.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  BIGINT NOT NULL
);
