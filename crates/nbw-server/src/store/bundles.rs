//! Bundle records (the archives themselves are artifacts, stored by digest).

use nbw_core::api::Bundle;

use crate::db::{Db, now_ms, to_time};
use crate::on_db;

/// A bundle row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BundleRow {
    /// Id.
    pub id: String,
    /// Project id.
    pub project_id: String,
    /// Version label.
    pub version: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Archive format.
    pub format: String,
    /// Size in bytes.
    pub size: i64,
    /// Notebook paths as a JSON list.
    pub notebooks: String,
    /// Uploader.
    pub uploaded_by: Option<String>,
    /// Upload time (ms).
    pub created_at: i64,
}

impl BundleRow {
    /// The notebook paths.
    pub fn notebooks(&self) -> Vec<String> {
        serde_json::from_str(&self.notebooks).unwrap_or_default()
    }

    /// The API view.
    pub fn to_api(&self) -> Bundle {
        Bundle {
            id: self.id.clone(),
            version: self.version.clone(),
            digest: self.digest.clone(),
            format: self.format.clone(),
            size: self.size as u64,
            notebooks: self.notebooks(),
            created_at: to_time(self.created_at),
        }
    }
}

/// Records a bundle; a unique violation means the version label exists.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    db: &Db,
    project_id: &str,
    version: &str,
    digest: &str,
    format: &str,
    size: u64,
    notebooks: &[String],
    uploaded_by: &str,
) -> Result<BundleRow, sqlx::Error> {
    let row = BundleRow {
        id: nbw_core::ids::random_id(),
        project_id: project_id.to_owned(),
        version: version.to_owned(),
        digest: digest.to_owned(),
        format: format.to_owned(),
        size: size as i64,
        notebooks: serde_json::to_string(notebooks).expect("paths serialize"),
        uploaded_by: Some(uploaded_by.to_owned()),
        created_at: now_ms(),
    };
    let sql = "INSERT INTO bundles (id, project_id, version, digest, format, size, notebooks, uploaded_by, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    on_db!(db, pool => sqlx::query(sql)
        .bind(&row.id).bind(&row.project_id).bind(&row.version).bind(&row.digest).bind(&row.format)
        .bind(row.size).bind(&row.notebooks).bind(&row.uploaded_by).bind(row.created_at)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(row)
}

/// A project's bundle by version label.
pub async fn by_version(db: &Db, project_id: &str, version: &str) -> Result<Option<BundleRow>, sqlx::Error> {
    let sql = "SELECT * FROM bundles WHERE project_id = $1 AND version = $2";
    on_db!(db, pool => sqlx::query_as(sql).bind(project_id).bind(version).fetch_optional(pool).await)
}

/// A project's latest upload.
pub async fn latest(db: &Db, project_id: &str) -> Result<Option<BundleRow>, sqlx::Error> {
    let sql = "SELECT * FROM bundles WHERE project_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1";
    on_db!(db, pool => sqlx::query_as(sql).bind(project_id).fetch_optional(pool).await)
}

/// A project's bundles, newest first.
pub async fn list(db: &Db, project_id: &str) -> Result<Vec<BundleRow>, sqlx::Error> {
    let sql = "SELECT * FROM bundles WHERE project_id = $1 ORDER BY created_at DESC, id DESC";
    on_db!(db, pool => sqlx::query_as(sql).bind(project_id).fetch_all(pool).await)
}
