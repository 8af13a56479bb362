//! Workflows: a name, an enabled flag and a spec (JSON), plus the next fire time the scheduler
//! keeps.

use nbw_core::api::{Workflow, WorkflowSpec};

use crate::db::{Db, now_ms, to_time, to_time_opt};
use crate::on_db;

/// A workflow row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkflowRow {
    /// Id.
    pub id: String,
    /// Project id.
    pub project_id: String,
    /// Name.
    pub name: String,
    /// [`WorkflowSpec`] as JSON.
    pub spec: String,
    /// Whether the schedule fires.
    pub enabled: bool,
    /// Next fire time (ms), when scheduled and enabled.
    pub next_fire_at: Option<i64>,
    /// The last fire that created no run: [`nbw_core::api::FireError`] as JSON.
    pub fire_error: Option<String>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

impl WorkflowRow {
    /// The spec.
    pub fn spec(&self) -> WorkflowSpec {
        serde_json::from_str(&self.spec).expect("specs are written by this server")
    }

    /// The API view.
    pub fn to_api(&self) -> Workflow {
        Workflow {
            id: self.id.clone(),
            name: self.name.clone(),
            enabled: self.enabled,
            spec: self.spec(),
            next_fire_at: to_time_opt(self.next_fire_at),
            last_fire_error: self.fire_error.as_deref().and_then(|e| serde_json::from_str(e).ok()),
            created_at: to_time(self.created_at),
            updated_at: to_time(self.updated_at),
            effective_timeout_secs: None,
            effective_max_queue_secs: None,
            typed_parameters: Vec::new(),
        }
    }
}

/// Inserts a workflow; a unique violation means the name is taken.
pub async fn insert(
    db: &Db,
    project_id: &str,
    name: &str,
    spec: &WorkflowSpec,
    enabled: bool,
    next_fire_at: Option<i64>,
) -> Result<WorkflowRow, sqlx::Error> {
    let now = now_ms();
    let row = WorkflowRow {
        id: nbw_core::ids::random_id(),
        project_id: project_id.to_owned(),
        name: name.to_owned(),
        spec: serde_json::to_string(spec).expect("specs serialize"),
        enabled,
        next_fire_at,
        fire_error: None,
        created_at: now,
        updated_at: now,
    };
    let sql = "INSERT INTO workflows (id, project_id, name, spec, enabled, next_fire_at, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    on_db!(db, pool => sqlx::query(sql)
        .bind(&row.id).bind(&row.project_id).bind(&row.name).bind(&row.spec).bind(row.enabled)
        .bind(row.next_fire_at).bind(row.created_at).bind(row.updated_at)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(row)
}

/// Replaces a workflow's name, spec, enabled flag and next fire time.
pub async fn update(
    db: &Db,
    id: &str,
    name: &str,
    spec: &WorkflowSpec,
    enabled: bool,
    next_fire_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE workflows SET name = $2, spec = $3, enabled = $4, next_fire_at = $5, updated_at = $6 WHERE id = $1";
    let spec = serde_json::to_string(spec).expect("specs serialize");
    on_db!(db, pool => sqlx::query(sql).bind(id).bind(name).bind(&spec).bind(enabled).bind(next_fire_at).bind(now_ms())
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A project's workflow by name.
pub async fn by_name(db: &Db, project_id: &str, name: &str) -> Result<Option<WorkflowRow>, sqlx::Error> {
    let sql = "SELECT * FROM workflows WHERE project_id = $1 AND name = $2";
    on_db!(db, pool => sqlx::query_as(sql).bind(project_id).bind(name).fetch_optional(pool).await)
}

/// A workflow by id.
pub async fn by_id(db: &Db, id: &str) -> Result<Option<WorkflowRow>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as("SELECT * FROM workflows WHERE id = $1").bind(id).fetch_optional(pool).await)
}

/// A project's workflows by name.
pub async fn list(db: &Db, project_id: &str) -> Result<Vec<WorkflowRow>, sqlx::Error> {
    let sql = "SELECT * FROM workflows WHERE project_id = $1 ORDER BY name";
    on_db!(db, pool => sqlx::query_as(sql).bind(project_id).fetch_all(pool).await)
}

/// Deletes a workflow; its executions stay in the history.
pub async fn delete(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    on_db!(db, pool => sqlx::query("DELETE FROM workflows WHERE id = $1").bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}
