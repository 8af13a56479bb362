//! The agents registry: agents, their labels, token hashes and last heartbeat.

use std::collections::BTreeMap;

use nbw_core::api::Agent;

use crate::db::{Db, now_ms, to_time, to_time_opt};
use crate::on_db;

type AgentTuple = (String, String, String, i64, Option<i64>, Option<i64>, Option<String>);

fn agent(row: AgentTuple) -> Agent {
    let (id, name, labels, created_at, last_heartbeat_at, revoked_at, version) = row;
    Agent {
        id,
        name,
        labels: serde_json::from_str(&labels).unwrap_or_default(),
        created_at: to_time(created_at),
        last_heartbeat_at: to_time_opt(last_heartbeat_at),
        revoked: revoked_at.is_some(),
        version,
        // Whether it is online depends on the lease length: see `auth::agents::list`.
        online: false,
    }
}

/// Registers an agent whose token hashes to `token_hash`.
pub async fn insert_agent(
    db: &Db,
    name: &str,
    labels: &BTreeMap<String, String>,
    token_hash: &str,
    created_by: &str,
) -> Result<Agent, sqlx::Error> {
    let id = nbw_core::ids::random_id();
    let now = now_ms();
    let labels_json = serde_json::to_string(labels).expect("labels serialize");
    let sql = "INSERT INTO agents (id, name, labels, token_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
    on_db!(db, pool => sqlx::query(sql).bind(&id).bind(name).bind(&labels_json).bind(token_hash).bind(created_by).bind(now)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(agent((id, name.to_owned(), labels_json, now, None, None, None)))
}

/// Every agent, revoked ones included, by name.
pub async fn list_agents(db: &Db) -> Result<Vec<Agent>, sqlx::Error> {
    let sql = "SELECT id, name, labels, created_at, last_heartbeat_at, revoked_at, version FROM agents ORDER BY name, id";
    let rows: Vec<AgentTuple> = on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(agent).collect())
}

/// Revokes an agent's token (a second revocation keeps the first time); false when no such
/// agent exists.
pub async fn revoke_agent(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE agents SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2";
    let n = on_db!(db, pool => sqlx::query(sql).bind(now_ms()).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Replaces an agent's labels.
pub async fn set_agent_labels(
    db: &Db,
    id: &str,
    labels: &BTreeMap<String, String>,
) -> Result<(), sqlx::Error> {
    let labels = serde_json::to_string(labels).expect("labels serialize");
    on_db!(db, pool => sqlx::query("UPDATE agents SET labels = $1 WHERE id = $2").bind(&labels).bind(id)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records the nbw version an agent announced.
pub async fn set_agent_version(db: &Db, id: &str, version: &str) -> Result<(), sqlx::Error> {
    on_db!(db, pool => sqlx::query("UPDATE agents SET version = $1 WHERE id = $2").bind(version).bind(id)
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// One agent.
pub async fn agent_by_id(db: &Db, id: &str) -> Result<Option<Agent>, sqlx::Error> {
    let sql = "SELECT id, name, labels, created_at, last_heartbeat_at, revoked_at, version FROM agents WHERE id = $1";
    let row: Option<AgentTuple> =
        on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?;
    Ok(row.map(agent))
}
