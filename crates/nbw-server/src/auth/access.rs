//! Project roles, checked on every project route. A caller who is not a member gets 404, as if
//! the project did not exist: names of other teams' projects do not leak.

use nbw_core::api::Role;

use super::UserCaller;
use crate::db::Db;
use crate::error::Error;
use crate::on_db;

/// A project the caller may act on, with the caller's role.
#[derive(Debug, Clone)]
pub struct ProjectAccess {
    /// Project id.
    pub project_id: String,
    /// Project name.
    pub name: String,
    /// The caller's role.
    pub role: Role,
}

/// The project named `name`, if `caller` is a member with at least role `min`.
pub async fn require_role(
    db: &Db,
    name: &str,
    caller: &UserCaller,
    min: Role,
) -> Result<ProjectAccess, Error> {
    let sql = "SELECT p.id, p.name, m.role FROM projects p JOIN members m ON m.project_id = p.id \
               WHERE p.name = $1 AND m.user_id = $2";
    let row: Option<(String, String, String)> =
        on_db!(db, pool => sqlx::query_as(sql).bind(name).bind(&caller.user_id).fetch_optional(pool).await)?;
    let (project_id, name, role) = row.ok_or_else(|| Error::not_found(format!("project {name:?}")))?;
    let role = Role::parse(&role).unwrap_or(Role::Viewer);
    if role < min {
        return Err(Error::Forbidden(format!(
            "this needs the {} role in project {name:?}; you are {}",
            min.as_str(),
            role.as_str()
        )));
    }
    Ok(ProjectAccess { project_id, name, role })
}

/// The caller's role in the project with id `project_id`, checked like [`require_role`].
pub async fn require_role_by_id(
    db: &Db,
    project_id: &str,
    caller: &UserCaller,
    min: Role,
    what: &str,
) -> Result<ProjectAccess, Error> {
    let sql = "SELECT p.id, p.name, m.role FROM projects p JOIN members m ON m.project_id = p.id \
               WHERE p.id = $1 AND m.user_id = $2";
    let row: Option<(String, String, String)> = on_db!(db, pool => sqlx::query_as(sql).bind(project_id).bind(&caller.user_id).fetch_optional(pool).await)?;
    let (project_id, name, role) = row.ok_or_else(|| Error::not_found(what))?;
    let role = Role::parse(&role).unwrap_or(Role::Viewer);
    if role < min {
        return Err(Error::Forbidden(format!(
            "this needs the {} role; you are {}",
            min.as_str(),
            role.as_str()
        )));
    }
    Ok(ProjectAccess { project_id, name, role })
}

/// The id of the project named `name`, whoever asks (for the server's own setup code only).
pub async fn project_by_name(db: &Db, name: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = on_db!(db, pool => sqlx::query_as("SELECT id FROM projects WHERE name = $1").bind(name).fetch_optional(pool).await)?;
    Ok(row.map(|(id,)| id))
}
