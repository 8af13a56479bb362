//! How long a run may take and wait: the effective timeout and queue limit of an execution.
//!
//! Timeout: the run's own (an ad-hoc run's `timeout_secs`, a workflow's or pipeline step's
//! `timeout`, which `nbw push` fills from the project's `defaults`), else the server's
//! `default_timeout_secs` (3 hours unless configured; 0 for none). The server's
//! `max_timeout_secs` caps the default silently but refuses an explicit request above it
//! (422 `timeout_above_maximum`): a run asking for 10 hours on a server allowing 2 should hear
//! so rather than be killed at 2 by surprise.
//!
//! Queue time: the run's (its workflow's `max_queue`), else the server's `max_queue_secs`; none
//! by default. A run still queued that long after it became claimable ends `expired`
//! (see [`crate::queue::expire`]).

use nbw_core::api::ExecutionSpec;

use crate::config::Config;
use crate::error::{Error, Result};

/// Refuses an explicit timeout above the server's maximum.
pub fn check_timeout(config: &Config, requested: Option<u64>) -> Result<()> {
    match (requested, config.max_timeout_secs) {
        (Some(asked), Some(max)) if asked > max => Err(Error::Unprocessable {
            code: "timeout_above_maximum",
            message: format!(
                "a timeout of {asked}s is above this server's maximum of {max}s (max_timeout_secs): ask for {max}s or less"
            ),
        }),
        _ => Ok(()),
    }
}

/// The timeout a run gets: `requested` (checked against the maximum), else the server's
/// default capped by the maximum; `None` when neither sets one.
pub fn effective_timeout(config: &Config, requested: Option<u64>) -> Result<Option<u64>> {
    check_timeout(config, requested)?;
    let default = (config.default_timeout_secs > 0).then_some(config.default_timeout_secs);
    let timeout = requested.or(default);
    Ok(match (timeout, config.max_timeout_secs) {
        (Some(t), Some(max)) => Some(t.min(max)),
        (None, Some(max)) => Some(max),
        (t, None) => t,
    })
}

/// The longest a run waits in the queue: `requested`, else the server's `max_queue_secs`.
pub fn effective_max_queue(config: &Config, requested: Option<u64>) -> Option<u64> {
    requested.or(config.max_queue_secs)
}

/// Records the effective limits in `spec`, as the execution will carry (and agents enforce)
/// them.
pub fn apply(config: &Config, spec: &mut ExecutionSpec) -> Result<()> {
    spec.timeout_secs = effective_timeout(config, spec.timeout_secs)?;
    spec.max_queue_secs = effective_max_queue(config, spec.max_queue_secs);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(default: u64, max: Option<u64>) -> Config {
        Config { default_timeout_secs: default, max_timeout_secs: max, ..Config::default() }
    }

    #[test]
    fn the_run_wins_then_the_server_default_capped_by_the_maximum() {
        assert_eq!(effective_timeout(&Config::default(), None).unwrap(), Some(3 * 3600));
        assert_eq!(effective_timeout(&config(60, None), Some(5)).unwrap(), Some(5));
        assert_eq!(effective_timeout(&config(600, Some(100)), None).unwrap(), Some(100));
        assert_eq!(effective_timeout(&config(0, None), None).unwrap(), None);
        assert_eq!(effective_timeout(&config(0, Some(50)), None).unwrap(), Some(50));
        let refused = effective_timeout(&config(60, Some(100)), Some(101)).unwrap_err();
        assert_eq!(refused.code(), "timeout_above_maximum");
        assert!(refused.to_string().contains("101s is above this server's maximum of 100s"));
    }

    #[test]
    fn the_queue_limit_is_the_runs_else_the_servers() {
        let server = Config { max_queue_secs: Some(30), ..Config::default() };
        assert_eq!(effective_max_queue(&server, Some(5)), Some(5));
        assert_eq!(effective_max_queue(&server, None), Some(30));
        assert_eq!(effective_max_queue(&Config::default(), None), None);
    }
}
