//! User accounts: the rules of a login name and a password, and creating an account. The API,
//! `nbw server admin create-user` and `nbw standalone` all create users here.

use nbw_core::api::CreateUser;

use super::password;
use crate::db::{Db, is_unique_violation};
use crate::error::{Error, Result};
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
