//! Server configuration: defaults < `nbw.toml` < `NBW_*` environment < command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Everything the server reads at start.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on. Loopback unless told otherwise.
    pub listen: SocketAddr,
    /// Where the SQLite file, the artifacts and the server key live.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; default: `sqlite://<data_dir>/nbw.db`.
    pub database_url: Option<String>,
    /// Object store for bundles and output notebooks: a directory path, `file:///...`,
    /// `s3://bucket/prefix`, `gs://bucket/prefix` or `az://container/prefix`; default
    /// `<data_dir>/artifacts`.
    pub artifacts_url: Option<String>,
    /// The URL people use to reach this server, for links in notifications.
    pub public_url: Option<String>,
    /// Largest bundle upload, in bytes.
    pub max_bundle_bytes: u64,
    /// Largest output notebook upload, in bytes.
    pub max_output_bytes: u64,
    /// Access token lifetime, in seconds.
    pub access_token_ttl_secs: u64,
    /// Refresh token lifetime, in seconds.
    pub refresh_token_ttl_secs: u64,
    /// An agent's lease on an execution, renewed by heartbeats, in seconds.
    pub lease_secs: u64,
    /// Failed logins allowed per user (and per client address) in `login_window_secs`.
    pub login_max_failures: u32,
    /// The window (and lockout) of the login rate limit, in seconds.
    pub login_window_secs: u64,
    /// How often the scheduler looks for due workflows (and for queued runs past their
    /// `max_queue`), in milliseconds.
    pub scheduler_tick_ms: u64,
    /// The timeout of a run that sets none (neither the run, its workflow or step, nor the
    /// project's `defaults` in nbw.yaml), in seconds; 0 for none.
    pub default_timeout_secs: u64,
    /// The longest timeout a run may ask for, in seconds; none by default. A workflow or run
    /// asking for more is refused (422 `timeout_above_maximum`); the default is capped by it.
    pub max_timeout_secs: Option<u64>,
    /// The longest a run waits in the queue when neither it nor its workflow says, in seconds;
    /// none by default. A run queued longer ends `expired`.
    pub max_queue_secs: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("nbw-data"),
            database_url: None,
            artifacts_url: None,
            public_url: None,
            max_bundle_bytes: 100 * 1024 * 1024,
            max_output_bytes: 512 * 1024 * 1024,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            lease_secs: 60,
            login_max_failures: 5,
            login_window_secs: 300,
            scheduler_tick_ms: 1000,
            default_timeout_secs: 3 * 3600,
            max_timeout_secs: None,
            max_queue_secs: None,
        }
    }
}

/// The configuration could not be read.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(#[from] Box<figment::Error>);

impl Config {
    /// The keys settable by `NBW_*` variables.
    const KEYS: &'static [&'static str] = &[
        "listen",
        "data_dir",
        "database_url",
        "artifacts_url",
        "public_url",
        "max_bundle_bytes",
        "max_output_bytes",
        "access_token_ttl_secs",
        "refresh_token_ttl_secs",
        "lease_secs",
        "login_max_failures",
        "login_window_secs",
        "scheduler_tick_ms",
        "default_timeout_secs",
        "max_timeout_secs",
        "max_queue_secs",
    ];

    /// Reads defaults, then `file` (if it exists), then `NBW_*` variables, then `overrides`
    /// (the flags that were given).
    pub fn load(file: Option<&Path>, overrides: impl Serialize) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file(file));
        }
        figment
            // Only the keys of this struct: NBW_ADMIN_PASSWORD, NBW_SECRET_KEY, NBW_LOG and the
            // agent's variables share the prefix and are read elsewhere.
            .merge(Env::prefixed("NBW_").only(Self::KEYS))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError(Box::new(e)))
    }

    /// The database URL, defaulting to the SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("nbw.db").display()))
    }

    /// The artifacts location, defaulting to a directory in the data dir.
    pub fn artifacts_url(&self) -> String {
        self.artifacts_url.clone().unwrap_or_else(|| self.data_dir.join("artifacts").display().to_string())
    }

    /// The base URL for links.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_settable_from_the_environment() {
        let fields = serde_json::to_value(Config::default()).unwrap();
        let mut names: Vec<&str> = fields.as_object().unwrap().keys().map(String::as_str).collect();
        names.sort();
        let mut keys = Config::KEYS.to_vec();
        keys.sort();
        assert_eq!(names, keys);
    }
}
