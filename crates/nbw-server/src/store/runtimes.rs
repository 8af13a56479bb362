//! Runtime versions: the images built (or registered by hand) for a project's runtimes, one row
//! per (project, runtime name, version).

use nbw_core::api::{ContainerImage, Runtime};

use crate::db::{Db, to_time};
use crate::on_db;

/// A runtime version row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RuntimeRow {
    /// Id.
    pub id: String,
    /// Runtime name.
    pub name: String,
    /// Version (the bundle version it was built from).
    pub version: String,
    /// Image reference.
    pub image: String,
    /// SHA-256 of the Dockerfile.
    pub dockerfile_hash: Option<String>,
    /// The image id the build produced.
    pub image_id: Option<String>,
    /// Registration time (ms); strictly increasing per runtime name, so "newest" is exact.
    pub created_at: i64,
}

impl RuntimeRow {
    /// The API view.
    pub fn to_api(&self) -> Runtime {
        Runtime {
            id: self.id.clone(),
            name: self.name.clone(),
            version: self.version.clone(),
            image: self.image.clone(),
            dockerfile_hash: self.dockerfile_hash.clone(),
            image_id: self.image_id.clone(),
            created_at: to_time(self.created_at),
        }
    }

    /// The image an execution of this version runs in.
    pub fn container(&self) -> ContainerImage {
        ContainerImage {
            runtime: self.name.clone(),
            version: self.version.clone(),
            image: self.image.clone(),
            image_id: self.image_id.clone(),
        }
    }
}

/// A version to record.
#[derive(Debug, Clone)]
pub struct NewRuntime {
    /// Runtime name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Image reference.
    pub image: String,
    /// SHA-256 of the Dockerfile.
    pub dockerfile_hash: Option<String>,
    /// Image id.
    pub image_id: Option<String>,
}

/// What [`insert`] does when the version exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Fail with a unique violation (a registration by hand must not overwrite a build).
    Refuse,
    /// Replace the image, its id and Dockerfile hash, keeping the version's place in the order
    /// (a rebuild of an old version does not make it the newest).
    Replace,
}

/// Records a runtime version at `now` (ms), or later than the runtime's newest version when
/// that one has the same millisecond or a later one (a clock step back), so the order of
/// registration is the order of `created_at`.
pub async fn insert(
    db: &Db,
    project_id: &str,
    new: &NewRuntime,
    on_conflict: OnConflict,
    now: i64,
) -> Result<RuntimeRow, sqlx::Error> {
    let conflict = match on_conflict {
        OnConflict::Refuse => "",
        OnConflict::Replace => {
            "ON CONFLICT (project_id, name, version) DO UPDATE SET image = excluded.image, \
             dockerfile_hash = excluded.dockerfile_hash, image_id = excluded.image_id"
        }
    };
    // The WHERE also keeps SQLite from reading ON CONFLICT as a join's ON.
    let sql = format!(
        "INSERT INTO runtimes (id, project_id, name, version, image, dockerfile_hash, image_id, created_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, CASE WHEN MAX(created_at) >= $8 THEN MAX(created_at) + 1 ELSE $8 END \
         FROM runtimes WHERE project_id = $2 AND name = $3 {conflict} \
         RETURNING id, name, version, image, dockerfile_hash, image_id, created_at"
    );
    on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(nbw_core::ids::random_id()).bind(project_id).bind(&new.name).bind(&new.version)
        .bind(&new.image).bind(&new.dockerfile_hash).bind(&new.image_id).bind(now)
        .fetch_one(pool).await)
}

/// Version `version` of runtime `name`, or its newest version when `version` is `None`.
pub async fn find(
    db: &Db,
    project_id: &str,
    name: &str,
    version: Option<&str>,
) -> Result<Option<RuntimeRow>, sqlx::Error> {
    let sql = "SELECT id, name, version, image, dockerfile_hash, image_id, created_at FROM runtimes \
               WHERE project_id = $1 AND name = $2 AND ($3 IS NULL OR version = $3) \
               ORDER BY created_at DESC, id DESC LIMIT 1";
    on_db!(db, pool => sqlx::query_as(sql)
        .bind(project_id).bind(name).bind(version).fetch_optional(pool).await)
}

/// The project's runtime versions (of runtime `name` only, when given), newest first.
pub async fn list(db: &Db, project_id: &str, name: Option<&str>) -> Result<Vec<RuntimeRow>, sqlx::Error> {
    let sql = "SELECT id, name, version, image, dockerfile_hash, image_id, created_at FROM runtimes \
               WHERE project_id = $1 AND ($2 IS NULL OR name = $2) ORDER BY created_at DESC, id DESC";
    on_db!(db, pool => sqlx::query_as(sql).bind(project_id).bind(name).fetch_all(pool).await)
}
