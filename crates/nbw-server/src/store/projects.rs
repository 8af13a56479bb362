//! Projects and members.

use nbw_core::api::{Member, Project, Role};

use crate::db::{Db, is_unique_violation, now_ms, to_time};
use crate::on_db;

type ProjectRow = (String, String, String, i64, String);

fn project(row: ProjectRow) -> Project {
    let (id, name, description, created_at, role) = row;
    Project {
        id,
        name,
        description,
        created_at: to_time(created_at),
        role: Role::parse(&role).unwrap_or(Role::Viewer),
    }
}

/// The projects `user_id` is a member of, by name.
pub async fn list_for_user(db: &Db, user_id: &str) -> Result<Vec<Project>, sqlx::Error> {
    let sql = "SELECT p.id, p.name, p.description, p.created_at, m.role FROM projects p \
               JOIN members m ON m.project_id = p.id WHERE m.user_id = $1 ORDER BY p.name";
    let rows: Vec<ProjectRow> = on_db!(db, pool => sqlx::query_as(sql).bind(user_id).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(project).collect())
}

/// One project, as seen with `role`.
pub async fn get(db: &Db, project_id: &str, role: Role) -> Result<Option<Project>, sqlx::Error> {
    let sql = "SELECT id, name, description, created_at, $2 FROM projects WHERE id = $1";
    let row: Option<ProjectRow> = on_db!(db, pool => sqlx::query_as(sql).bind(project_id).bind(role.as_str()).fetch_optional(pool).await)?;
    Ok(row.map(project))
}

/// Creates a project owned by `owner`; `None` when the name is taken.
pub async fn create(
    db: &Db,
    name: &str,
    description: &str,
    owner: &str,
) -> Result<Option<Project>, sqlx::Error> {
    let id = nbw_core::ids::random_id();
    let now = now_ms();
    let result = on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let inserted = sqlx::query("INSERT INTO projects (id, name, description, created_by, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&id).bind(name).bind(description).bind(owner).bind(now)
            .execute(&mut *tx).await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Ok(None),
            other => other?,
        };
        sqlx::query("INSERT INTO members (project_id, user_id, role) VALUES ($1, $2, 'owner')")
            .bind(&id).bind(owner).execute(&mut *tx).await?;
        tx.commit().await
    });
    result?;
    Ok(Some(Project {
        id,
        name: name.to_owned(),
        description: description.to_owned(),
        created_at: to_time(now),
        role: Role::Owner,
    }))
}

/// Deletes a project; its rows go with it (foreign keys cascade).
pub async fn delete(db: &Db, project_id: &str) -> Result<(), sqlx::Error> {
    on_db!(db, pool => sqlx::query("DELETE FROM projects WHERE id = $1").bind(project_id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The members of a project, by name.
pub async fn members(db: &Db, project_id: &str) -> Result<Vec<Member>, sqlx::Error> {
    let sql = "SELECT u.id, u.username, m.role FROM members m JOIN users u ON u.id = m.user_id \
               WHERE m.project_id = $1 ORDER BY u.username";
    let rows: Vec<(String, String, String)> =
        on_db!(db, pool => sqlx::query_as(sql).bind(project_id).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(|(user_id, username, role)| Member {
            user_id,
            username,
            role: Role::parse(&role).unwrap_or(Role::Viewer),
        })
        .collect())
}

/// Adds a member or changes their role.
pub async fn set_member(db: &Db, project_id: &str, user_id: &str, role: Role) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO members (project_id, user_id, role) VALUES ($1, $2, $3) \
               ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role";
    on_db!(db, pool => sqlx::query(sql).bind(project_id).bind(user_id).bind(role.as_str()).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes a member; false when they were not one.
pub async fn remove_member(db: &Db, project_id: &str, user_id: &str) -> Result<bool, sqlx::Error> {
    let sql = "DELETE FROM members WHERE project_id = $1 AND user_id = $2";
    let removed = on_db!(db, pool => sqlx::query(sql).bind(project_id).bind(user_id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(removed > 0)
}
