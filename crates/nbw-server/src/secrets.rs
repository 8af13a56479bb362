//! Project secrets: their names (environment variable names, the project file's rule), and
//! their values at rest: XChaCha20-Poly1305 under the server's master key, a random 24-byte
//! nonce per write, and the project id and name as associated data, so a ciphertext copied to
//! another row does not decrypt. Values leave the server only in a claim, to the agent running
//! that project's execution.

use anyhow::{Context, anyhow};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::state::AppState;
use nbw_core::api::SecretName;

use crate::db::{now_ms, to_time};
use crate::error::{Error, Result};
use crate::on_db;

/// The master key version new values are written with.
const KEY_VERSION: i64 = 1;

fn aad(project_id: &str, name: &str) -> Vec<u8> {
    format!("nbw-secret\0{project_id}\0{name}").into_bytes()
}

/// Encrypts `value` for `(project_id, name)`: base64 of nonce || ciphertext.
pub fn seal(key: &[u8; 32], project_id: &str, name: &str, value: &str) -> String {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce_bytes: [u8; 24] = rand::random();
    let nonce = XNonce::from_slice(&nonce_bytes);
    let aad = aad(project_id, name);
    let sealed = cipher
        .encrypt(nonce, Payload { msg: value.as_bytes(), aad: &aad })
        .expect("encryption does not fail");
    let mut out = nonce_bytes.to_vec();
    out.extend_from_slice(&sealed);
    STANDARD.encode(out)
}

/// Decrypts what [`seal`] wrote for the same `(project_id, name)`.
pub fn open(key: &[u8; 32], project_id: &str, name: &str, sealed: &str) -> anyhow::Result<String> {
    let bytes = STANDARD.decode(sealed).context("secret is not base64")?;
    if bytes.len() < 24 {
        return Err(anyhow!("secret ciphertext is too short"));
    }
    let (nonce, ciphertext) = bytes.split_at(24);
    let cipher = XChaCha20Poly1305::new(key.into());
    let aad = aad(project_id, name);
    let plain =
        cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad }).map_err(|_| {
            anyhow!("secret {name:?} does not decrypt with this server's key (was NBW_SECRET_KEY changed?)")
        })?;
    String::from_utf8(plain).context("secret is not UTF-8")
}

/// Stores (or replaces) a secret.
pub async fn write_secret(state: &AppState, project_id: &str, name: &str, value: &str) -> anyhow::Result<()> {
    let sealed = seal(&state.keys.secrets, project_id, name, value);
    let sql = "INSERT INTO secrets (project_id, name, ciphertext, key_version, updated_at) VALUES ($1, $2, $3, $4, $5) \
               ON CONFLICT (project_id, name) DO UPDATE SET ciphertext = excluded.ciphertext, \
               key_version = excluded.key_version, updated_at = excluded.updated_at";
    on_db!(&state.db, pool => sqlx::query(sql).bind(project_id).bind(name).bind(&sealed).bind(KEY_VERSION).bind(now_ms())
        .execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Checks a name and a value (at most 64 KiB) and stores the secret: what a user's "set"
/// does, through the API or a page.
pub async fn set(state: &AppState, project_id: &str, name: &str, value: &str) -> Result<()> {
    check_name(name)?;
    if value.len() > 64 * 1024 {
        return Err(Error::TooLarge("a secret value may hold at most 64 KiB".into()));
    }
    write_secret(state, project_id, name, value).await?;
    Ok(())
}

/// Reads one secret's value.
pub async fn read_secret(state: &AppState, project_id: &str, name: &str) -> anyhow::Result<Option<String>> {
    let sql = "SELECT ciphertext FROM secrets WHERE project_id = $1 AND name = $2";
    let row: Option<(String,)> = on_db!(&state.db, pool => sqlx::query_as(sql).bind(project_id).bind(name).fetch_optional(pool).await)?;
    row.map(|(sealed,)| open(&state.keys.secrets, project_id, name, &sealed)).transpose()
}

/// Checks a secret name: an environment variable name, `[A-Za-z_][A-Za-z0-9_]{0,127}`.
pub fn check_name(name: &str) -> Result<()> {
    Error::require(nbw_core::project::valid_env_name(name), "invalid_name", || {
        format!(
            "secret name {name:?} is not an environment variable name: use letters, digits and '_', not starting with a digit"
        )
    })
}

/// The names of a project's secrets, with when each was set.
pub async fn names(state: &AppState, project_id: &str) -> Result<Vec<SecretName>> {
    let sql = "SELECT name, updated_at FROM secrets WHERE project_id = $1 ORDER BY name";
    let rows: Vec<(String, i64)> =
        on_db!(&state.db, pool => sqlx::query_as(sql).bind(project_id).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|(name, at)| SecretName { name, updated_at: to_time(at) }).collect())
}

/// Deletes a secret; `NotFound` when there is none of that name.
pub async fn delete(state: &AppState, project_id: &str, name: &str) -> Result<()> {
    let sql = "DELETE FROM secrets WHERE project_id = $1 AND name = $2";
    let deleted = on_db!(&state.db, pool => sqlx::query(sql).bind(project_id).bind(name).execute(pool).await.map(|r| r.rows_affected()))?;
    if deleted == 0 {
        return Err(Error::not_found(format!("secret {name:?}")));
    }
    Ok(())
}

/// Every secret of a project, decrypted: only for a claim.
pub async fn read_all(
    state: &AppState,
    project_id: &str,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let sql = "SELECT name, ciphertext FROM secrets WHERE project_id = $1";
    let rows: Vec<(String, String)> =
        on_db!(&state.db, pool => sqlx::query_as(sql).bind(project_id).fetch_all(pool).await)?;
    rows.into_iter()
        .map(|(name, sealed)| Ok((name.clone(), open(&state.keys.secrets, project_id, &name, &sealed)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_row_and_key() {
        let key = [1u8; 32];
        let sealed = seal(&key, "p1", "TOKEN", "s3cret");
        assert!(!sealed.contains("s3cret"));
        assert_eq!(open(&key, "p1", "TOKEN", &sealed).unwrap(), "s3cret");
        assert!(open(&key, "p2", "TOKEN", &sealed).is_err());
        assert!(open(&key, "p1", "OTHER", &sealed).is_err());
        assert!(open(&[2u8; 32], "p1", "TOKEN", &sealed).is_err());
        assert_ne!(seal(&key, "p1", "TOKEN", "s3cret"), sealed, "a fresh nonce each time");
    }
}
