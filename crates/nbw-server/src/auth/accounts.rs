//! User accounts: the rules of a login name and a password, creating an account, disabling it
//! and resetting its password. The API, `nbw server admin create-user` and `nbw standalone` all
//! create users here.

use nbw_core::api::CreateUser;

use super::identity::UserCaller;
use super::password;
use crate::db::{Db, is_unique_violation, now_ms};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::tokens;
use crate::store::users::{self, UserRow};

/// Checks a login name: 1 to 64 of `A-Za-z0-9_.-@`.
pub fn check_username(username: &str) -> Result<()> {
    let ok = !username.is_empty()
        && username.len() <= 64
        && username.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            code: "invalid_name",
            message: format!(
                "username {username:?} is not valid: use 1 to 64 letters, digits, '_', '.', '-' or '@'"
            ),
        })
    }
}

/// Checks a new password's length (never echoing it).
pub fn check_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < password::MIN_LEN {
        return Err(Error::Invalid {
            code: "weak_password",
            message: format!("the password is too short: use at least {} characters", password::MIN_LEN),
        });
    }
    if password.len() > password::MAX_LEN {
        return Err(Error::Invalid {
            code: "invalid_request",
            message: format!("the password is too long: use at most {} bytes", password::MAX_LEN),
        });
    }
    Ok(())
}

/// Validates and creates a user: `Invalid` for a bad name or password, `Conflict` when the name
/// is taken.
pub async fn create_user(db: &Db, input: CreateUser) -> Result<UserRow> {
    check_username(&input.username)?;
    check_password(&input.password)?;
    let hash = password::hash_blocking(input.password).await?;
    match users::insert(db, &input.username, &hash, input.is_admin).await {
        Ok(row) => Ok(row),
        Err(e) if is_unique_violation(&e) => {
            Err(Error::Conflict(format!("a user named {:?} exists already", input.username)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The account named `username`, or `NotFound`.
async fn by_username(db: &Db, username: &str) -> Result<UserRow> {
    users::by_username(db, username).await?.ok_or_else(|| Error::not_found(format!("user {username:?}")))
}

/// Disables (or enables again) `username`. Disabling ends every login of the account at once:
/// its refresh tokens are revoked, and its access tokens stop working on this server now and
/// on the others within a second ([`crate::state::ActiveUsers`]). Administrators cannot
/// disable themselves, so a server is never left without a way back in by mistake.
pub async fn set_disabled(
    state: &AppState,
    by: &UserCaller,
    username: &str,
    disabled: bool,
) -> Result<UserRow> {
    let mut user = by_username(&state.db, username).await?;
    if disabled && user.id == by.user_id {
        return Err(Error::Conflict("you cannot disable your own account: ask another administrator".into()));
    }
    users::set_disabled(&state.db, &user.id, disabled).await?;
    if disabled {
        tokens::revoke_user(&state.db, &user.id, now_ms()).await?;
    }
    state.active_users.forget(&user.id);
    user.disabled = disabled;
    Ok(user)
}

/// Gives `username` a new password and ends every login of the account (its refresh tokens are
/// revoked; access tokens already issued run out within their short lifetime).
pub async fn reset_password(state: &AppState, username: &str, password: String) -> Result<UserRow> {
    check_password(&password)?;
    let user = by_username(&state.db, username).await?;
    let hash = password::hash_blocking(password).await?;
    users::set_password_hash(&state.db, &user.id, &hash).await?;
    tokens::revoke_user(&state.db, &user.id, now_ms()).await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords_are_checked() {
        for good in ["a", "alice", "a.b-c_d@example.org", &"x".repeat(64)] {
            assert!(check_username(good).is_ok(), "{good}");
        }
        for bad in ["", "with space", "ümlaut", "a/b", &"x".repeat(65)] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
        let message = check_password("pw12").unwrap_err().to_string();
        assert!(!message.contains("pw12"), "{message}");
    }
}
