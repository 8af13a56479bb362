//! The failed-login rate limit: `login_max_failures` failures of one username within
//! `login_window_secs` (or [`ADDRESS_FACTOR`] times as many from one client address) lock that
//! username (or address) for one window: 429 `rate_limited`. A maximum of 0 turns it off.
//!
//! The username's counter exists whether or not the user does, and every answer about it is
//! the same, so the limit does not tell which usernames exist. Usernames are keyed by their
//! hash: a login form accepts any text, and the table should hold neither long strings nor
//! attempted names (people type passwords into the username field).

use crate::auth::caller::token_hash;
use crate::db::now_ms;
use crate::error::Error;
use crate::state::AppState;
use crate::store::tokens;

/// An address may fail this many times as often as one username: many people can share one
/// address (an office behind NAT), and one of them mistyping must not lock out the rest.
pub const ADDRESS_FACTOR: i64 = 10;

/// The counters a login attempt touches: its username and its client address.
#[derive(Debug, Clone)]
pub struct LoginKeys {
    user: String,
    addr: String,
}

impl LoginKeys {
    /// The keys of a login for `username` from `client` (an IP address, or "unknown").
    pub fn new(username: &str, client: &str) -> LoginKeys {
        LoginKeys { user: format!("user:{}", token_hash(username)), addr: format!("addr:{client}") }
    }

    fn both(&self) -> [String; 2] {
        [self.user.clone(), self.addr.clone()]
    }
}

fn window_ms(state: &AppState) -> i64 {
    i64::try_from(state.config.login_window_secs.saturating_mul(1000)).unwrap_or(i64::MAX / 4)
}

fn enabled(state: &AppState) -> bool {
    state.config.login_max_failures > 0
}

/// Fails with 429 while either key is locked.
pub async fn check(state: &AppState, keys: &LoginKeys) -> Result<(), Error> {
    if !enabled(state) {
        return Ok(());
    }
    let now = now_ms();
    match tokens::locked_until(&state.db, &keys.both(), now).await? {
        Some(until) => Err(locked(until - now)),
        None => Ok(()),
    }
}

/// Counts a failed login against both keys.
pub async fn failed(state: &AppState, keys: &LoginKeys) -> Result<(), Error> {
    if !enabled(state) {
        return Ok(());
    }
    let now = now_ms();
    let window = window_ms(state);
    let max = i64::from(state.config.login_max_failures);
    tokens::record_failure(&state.db, &keys.user, now, max, window).await?;
    tokens::record_failure(&state.db, &keys.addr, now, max * ADDRESS_FACTOR, window).await?;
    // Keeps the table to the keys of one window.
    tokens::purge_stale_failures(&state.db, now, window).await?;
    Ok(())
}

/// A successful login clears its username's counter (the address's stays: one good password
/// must not reset a spray from that address).
pub async fn succeeded(state: &AppState, keys: &LoginKeys) -> Result<(), Error> {
    tokens::clear_failures(&state.db, &keys.user).await?;
    Ok(())
}

fn locked(remaining_ms: i64) -> Error {
    let secs = (remaining_ms.max(0) + 999) / 1000;
    Error::RateLimited(format!("too many failed logins: try again in {secs} s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hide_the_username_and_name_the_address() {
        let keys = LoginKeys::new("alice", "127.0.0.1");
        assert!(keys.user.starts_with("user:") && !keys.user.contains("alice"));
        assert_eq!(keys.user.len(), 5 + 64);
        assert_eq!(keys.addr, "addr:127.0.0.1");
        assert_eq!(locked(1).to_string(), "too many failed logins: try again in 1 s");
    }
}
