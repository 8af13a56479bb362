//! Pipelines and their runs. A run's steps are one JSON column changed by compare-and-set on
//! the run's `version` ([`save_run`]), so concurrent step ends serialize without a lock.

use std::collections::BTreeMap;

use nbw_core::api::{Origin, Pipeline, PipelineRun, PipelineRunState, StepRun};
use nbw_core::params::Parameters;
use nbw_core::pipeline::PipelineEntry;
use serde_json::Value;

use crate::db::{Db, now_ms, to_time, to_time_opt};
use crate::on_db;

/// A pipeline row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PipelineRow {
    /// Id.
    pub id: String,
    /// Project id.
    pub project_id: String,
    /// Name.
    pub name: String,
    /// Whether the schedule fires.
    pub enabled: bool,
    /// Bundle version its steps run; the latest when absent.
    pub bundle_version: Option<String>,
    /// [`PipelineEntry`] as JSON.
    pub spec: String,
    /// Next fire time (ms).
    pub next_fire_at: Option<i64>,
    /// The last fire that created no run ([`nbw_core::api::FireError`] as JSON).
    pub fire_error: Option<String>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

impl PipelineRow {
    /// The definition.
    pub fn spec(&self) -> PipelineEntry {
        serde_json::from_str(&self.spec).expect("specs are written by this server")
    }

    /// The API view.
    pub fn to_api(&self) -> Pipeline {
        Pipeline {
            id: self.id.clone(),
            name: self.name.clone(),
            enabled: self.enabled,
            bundle_version: self.bundle_version.clone(),
            spec: self.spec(),
            next_fire_at: to_time_opt(self.next_fire_at),
            last_fire_error: self.fire_error.as_deref().and_then(|e| serde_json::from_str(e).ok()),
            created_at: to_time(self.created_at),
            updated_at: to_time(self.updated_at),
        }
    }
}

/// Creates or replaces the pipeline `name` of a project; the stored row.
pub async fn upsert(
    db: &Db,
    project_id: &str,
    name: &str,
    enabled: bool,
    bundle_version: Option<&str>,
    spec: &PipelineEntry,
    next_fire_at: Option<i64>,
) -> Result<PipelineRow, sqlx::Error> {
    let sql = "INSERT INTO pipelines (id, project_id, name, enabled, bundle_version, spec, next_fire_at, \
               created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
               ON CONFLICT (project_id, name) DO UPDATE SET enabled = excluded.enabled, \
               bundle_version = excluded.bundle_version, spec = excluded.spec, \
               next_fire_at = excluded.next_fire_at, fire_error = NULL, updated_at = excluded.updated_at \
               RETURNING *";
    let spec = serde_json::to_string(spec).expect("specs serialize");
    on_db!(db, pool => sqlx::query_as(sql)
        .bind(nbw_core::ids::random_id()).bind(project_id).bind(name).bind(enabled).bind(bundle_version)
        .bind(&spec).bind(next_fire_at).bind(now_ms())
        .fetch_one(pool).await)
}

/// A project's pipeline by name.
pub async fn by_name(db: &Db, project_id: &str, name: &str) -> Result<Option<PipelineRow>, sqlx::Error> {
    let sql = "SELECT * FROM pipelines WHERE project_id = $1 AND name = $2";
    on_db!(db, pool => sqlx::query_as(sql).bind(project_id).bind(name).fetch_optional(pool).await)
}

/// A project's pipelines by name.
pub async fn list(db: &Db, project_id: &str) -> Result<Vec<PipelineRow>, sqlx::Error> {
    let sql = "SELECT * FROM pipelines WHERE project_id = $1 ORDER BY name";
    on_db!(db, pool => sqlx::query_as(sql).bind(project_id).fetch_all(pool).await)
}

/// Deletes a pipeline; its runs stay in the history.
pub async fn delete(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    on_db!(db, pool => sqlx::query("DELETE FROM pipelines WHERE id = $1").bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A pipeline run row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    /// Id (`pip.`).
    pub id: String,
    /// Project id.
    pub project_id: String,
    /// The pipeline's id, while it exists.
    pub pipeline_id: Option<String>,
    /// The pipeline's name.
    pub pipeline: String,
    /// [`PipelineRunState`] name.
    pub state: String,
    /// Origin prefix.
    pub origin: String,
    /// `<pipeline id>@<fire time ms>` for scheduled runs.
    pub fire_key: Option<String>,
    /// The fire time (ms).
    pub scheduled_for: Option<i64>,
    /// The run this one re-runs.
    pub rerun_of: Option<String>,
    /// Why it failed, timed out or was cancelled.
    pub message: Option<String>,
    /// The definition when it was created ([`PipelineEntry`] as JSON).
    pub spec: String,
    /// Bundle version its steps run.
    pub bundle_version: Option<String>,
    /// The template context (JSON object).
    pub context: String,
    /// Parameter overrides by step (JSON).
    pub parameters: String,
    /// The steps ([`StepRun`] list as JSON).
    pub steps: String,
    /// A cancel was asked for.
    pub cancel_requested: bool,
    /// The agent the run is pinned to (shared volumes).
    pub agent_id: Option<String>,
    /// The shared volume's name.
    pub volume: Option<String>,
    /// The volume is kept until (ms), after a failure.
    pub keep_until: Option<i64>,
    /// The run times out at (ms).
    pub deadline: Option<i64>,
    /// Compare-and-set counter of every change.
    pub version: i64,
    /// Who asked.
    pub created_by: Option<String>,
    /// Times (ms).
    pub created_at: i64,
    /// Its first step started.
    pub started_at: Option<i64>,
    /// It ended.
    pub finished_at: Option<i64>,
}

impl RunRow {
    /// The state.
    pub fn state(&self) -> PipelineRunState {
        serde_json::from_value(Value::String(self.state.clone())).unwrap_or(PipelineRunState::Failed)
    }

    /// The definition it runs.
    pub fn spec(&self) -> PipelineEntry {
        serde_json::from_str(&self.spec).expect("specs are written by this server")
    }

    /// The steps.
    pub fn steps(&self) -> Vec<StepRun> {
        serde_json::from_str(&self.steps).expect("steps are written by this server")
    }

    /// The template context.
    pub fn context(&self) -> BTreeMap<String, Value> {
        serde_json::from_str(&self.context).unwrap_or_default()
    }

    /// The parameter overrides by step.
    pub fn parameters(&self) -> BTreeMap<String, Parameters> {
        serde_json::from_str(&self.parameters).unwrap_or_default()
    }

    /// The API view.
    pub fn to_api(&self) -> PipelineRun {
        PipelineRun {
            id: self.id.clone(),
            project_id: self.project_id.clone(),
            pipeline: self.pipeline.clone(),
            state: self.state(),
            origin: Origin::of_id(&format!("{}.", self.origin)).unwrap_or(Origin::Web),
            scheduled_for: to_time_opt(self.scheduled_for),
            rerun_of: self.rerun_of.clone(),
            message: self.message.clone(),
            steps: self.steps(),
            cancel_requested: self.cancel_requested,
            created_at: to_time(self.created_at),
            started_at: to_time_opt(self.started_at),
            finished_at: to_time_opt(self.finished_at),
        }
    }
}

/// The state's stored name.
pub fn state_name(state: PipelineRunState) -> String {
    match serde_json::to_value(state) {
        Ok(Value::String(name)) => name,
        _ => unreachable!("run states serialize as strings"),
    }
}

/// Inserts a run; false when its `fire_key` exists (the fire happened already).
pub async fn insert_run(db: &Db, row: &RunRow) -> Result<bool, sqlx::Error> {
    let sql = "INSERT INTO pipeline_runs (id, project_id, pipeline_id, pipeline, state, origin, fire_key, \
               scheduled_for, rerun_of, message, spec, bundle_version, context, parameters, steps, \
               cancel_requested, agent_id, volume, keep_until, deadline, version, created_by, created_at, \
               started_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
               $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25) ON CONFLICT (fire_key) DO NOTHING";
    let n = on_db!(db, pool => sqlx::query(sql)
        .bind(&row.id).bind(&row.project_id).bind(&row.pipeline_id).bind(&row.pipeline).bind(&row.state)
        .bind(&row.origin).bind(&row.fire_key).bind(row.scheduled_for).bind(&row.rerun_of).bind(&row.message)
        .bind(&row.spec).bind(&row.bundle_version).bind(&row.context).bind(&row.parameters).bind(&row.steps)
        .bind(row.cancel_requested).bind(&row.agent_id).bind(&row.volume).bind(row.keep_until)
        .bind(row.deadline).bind(row.version).bind(&row.created_by).bind(row.created_at)
        .bind(row.started_at).bind(row.finished_at)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Writes the changing part of `row` if the stored version is still `row.version`, bumping it;
/// false when another change came first (read again and retry).
pub async fn save_run(db: &Db, row: &RunRow) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE pipeline_runs SET state = $1, message = $2, steps = $3, cancel_requested = $4, \
               agent_id = $5, keep_until = $6, started_at = $7, finished_at = $8, version = version + 1 \
               WHERE id = $9 AND version = $10";
    let n = on_db!(db, pool => sqlx::query(sql)
        .bind(&row.state).bind(&row.message).bind(&row.steps).bind(row.cancel_requested).bind(&row.agent_id)
        .bind(row.keep_until).bind(row.started_at).bind(row.finished_at).bind(&row.id).bind(row.version)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// One run.
pub async fn run(db: &Db, id: &str) -> Result<Option<RunRow>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as("SELECT * FROM pipeline_runs WHERE id = $1").bind(id).fetch_optional(pool).await)
}

/// A pipeline's runs, newest first, after the `(created_at, id)` cursor.
pub async fn runs_of(
    db: &Db,
    project_id: &str,
    pipeline: &str,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<RunRow>, sqlx::Error> {
    let (at, id) = after.unwrap_or((i64::MAX, String::new()));
    let sql = "SELECT * FROM pipeline_runs WHERE project_id = $1 AND pipeline = $2 \
               AND (created_at < $3 OR (created_at = $3 AND id < $4)) \
               ORDER BY created_at DESC, id DESC LIMIT $5";
    on_db!(db, pool => sqlx::query_as(sql).bind(project_id).bind(pipeline).bind(at).bind(id).bind(limit).fetch_all(pool).await)
}

/// Runs not ended whose deadline passed before `now`.
pub async fn overdue(db: &Db, now: i64) -> Result<Vec<RunRow>, sqlx::Error> {
    let sql = "SELECT * FROM pipeline_runs WHERE state IN ('queued', 'running') AND deadline < $1";
    on_db!(db, pool => sqlx::query_as(sql).bind(now).fetch_all(pool).await)
}

/// Runs not ended, oldest first (the repair pass looks at each).
pub async fn unfinished(db: &Db) -> Result<Vec<RunRow>, sqlx::Error> {
    let sql = "SELECT * FROM pipeline_runs WHERE state IN ('queued', 'running') ORDER BY created_at";
    on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)
}

/// The runs using volume `name` (a run and its `--from-failed` re-runs share one).
pub async fn runs_with_volume(db: &Db, name: &str) -> Result<Vec<RunRow>, sqlx::Error> {
    let sql = "SELECT * FROM pipeline_runs WHERE volume = $1";
    on_db!(db, pool => sqlx::query_as(sql).bind(name).fetch_all(pool).await)
}

/// Enabled pipelines whose next fire is at or before `now`.
pub async fn due(db: &Db, now: i64) -> Result<Vec<PipelineRow>, sqlx::Error> {
    let sql =
        "SELECT * FROM pipelines WHERE enabled = TRUE AND next_fire_at <= $1 ORDER BY next_fire_at LIMIT 100";
    on_db!(db, pool => sqlx::query_as(sql).bind(now).fetch_all(pool).await)
}

/// Moves a pipeline's next fire from `from` to `to`; false when another server moved it first.
pub async fn move_fire(db: &Db, id: &str, from: i64, to: Option<i64>) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE pipelines SET next_fire_at = $1 WHERE id = $2 AND next_fire_at = $3";
    let n = on_db!(db, pool => sqlx::query(sql).bind(to).bind(id).bind(from).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Records why a fire created no run ([`nbw_core::api::FireError`] as JSON).
pub async fn set_fire_error(db: &Db, id: &str, error: &str) -> Result<(), sqlx::Error> {
    let sql = "UPDATE pipelines SET fire_error = $1 WHERE id = $2";
    on_db!(db, pool => sqlx::query(sql).bind(error).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}
