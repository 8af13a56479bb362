//! Stored logins, one per server, in `credentials.json` of the config folder
//! (`$NBW_CONFIG_DIR`, else the platform's config dir + `nbw`), mode 0600 in a 0700 folder.
//!
//! Access tokens live minutes; each command refreshes an expiring one with the refresh token.
//! The server rotates the refresh token on every refresh and treats a second use of a spent
//! one as theft (it revokes the whole login), so two `nbw` processes must never refresh with
//! the same token: a refresh happens under an exclusive lock on `credentials.lock`, re-reads
//! the file first (another process may have refreshed already), and stores the new tokens
//! before the lock is released.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use nbw_client::{ClientError, UserClient};
use nbw_core::api::Tokens;
use serde::{Deserialize, Serialize};

use super::{CliError, CliResult, LOGIN};

/// The server used when none was ever named.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// A token this close to its expiry is refreshed before use.
const MARGIN_SECS: i64 = 60;

/// One server's login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    /// Who logged in.
    pub username: String,
    /// The tokens.
    #[serde(flatten)]
    pub tokens: StoredTokens,
}

/// The tokens of a login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTokens {
    /// Bearer token.
    pub access_token: String,
    /// Its expiry.
    pub access_expires_at: DateTime<Utc>,
    /// Single-use refresh token.
    pub refresh_token: String,
    /// Its expiry.
    pub refresh_expires_at: DateTime<Utc>,
}

impl From<Tokens> for StoredTokens {
    fn from(t: Tokens) -> Self {
        StoredTokens {
            access_token: t.access_token,
            access_expires_at: t.access_expires_at,
            refresh_token: t.refresh_token,
            refresh_expires_at: t.refresh_expires_at,
        }
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Store {
    /// The server of the last login: the default of every command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// Logins by server URL.
    #[serde(default)]
    pub servers: BTreeMap<String, Profile>,
}

/// The config folder.
pub fn config_dir() -> CliResult<PathBuf> {
    if let Some(dir) = std::env::var_os("NBW_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::config_dir().map(|d| d.join("nbw")).ok_or_else(|| {
        CliError::bad_input(
            "no config folder is known for this user: set NBW_CONFIG_DIR to a folder for nbw's logins",
        )
    })
}

/// `http://host:port` without a trailing slash; `host:port` gets `http://`.
pub fn normalize_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    if url.contains("://") { url.to_owned() } else { format!("http://{url}") }
}

impl Store {
    fn path(dir: &Path) -> PathBuf {
        dir.join("credentials.json")
    }

    /// Reads the store (empty when there is none).
    pub fn read(dir: &Path) -> CliResult<Store> {
        let path = Store::path(dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                CliError::bad_input(format!(
                    "{} is damaged ({e}); delete it and log in again",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Store::default()),
            Err(e) => Err(CliError::bad_input(format!("cannot read {}: {e}", path.display()))),
        }
    }

    /// Writes the store atomically, readable by the user only.
    pub fn write(&self, dir: &Path) -> CliResult<()> {
        let fail = |e: std::io::Error| CliError::bad_input(format!("cannot write {}: {e}", dir.display()));
        create_private_dir(dir).map_err(fail)?;
        let text = serde_json::to_string_pretty(self).expect("the store serializes");
        let mut file = tempfile::Builder::new().prefix(".credentials-").tempfile_in(dir).map_err(fail)?;
        set_mode(file.path(), 0o600).map_err(fail)?;
        file.write_all(text.as_bytes()).map_err(fail)?;
        file.as_file().sync_all().map_err(fail)?;
        file.persist(Store::path(dir)).map_err(|e| fail(e.error))?;
        Ok(())
    }

    /// The server a command talks to: `--server`/`NBW_SERVER`, else the last login's.
    pub fn pick_server(&self, flag: Option<&str>) -> String {
        match flag {
            Some(url) => normalize_url(url),
            None => self.current.clone().unwrap_or_else(|| DEFAULT_SERVER.to_owned()),
        }
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if !dir.is_dir() {
        std::fs::create_dir_all(dir)?;
        set_mode(dir, 0o700)?;
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Holds `credentials.lock` while alive.
struct Lock(std::fs::File);

impl Lock {
    fn take(dir: &Path) -> CliResult<Lock> {
        let fail = |e: std::io::Error| CliError::bad_input(format!("cannot lock {}: {e}", dir.display()));
        create_private_dir(dir).map_err(fail)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("credentials.lock"))
            .map_err(fail)?;
        file.lock().map_err(fail)?;
        Ok(Lock(file))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// Records a new login and makes its server the default.
pub fn save_login(server: &str, username: &str, tokens: Tokens) -> CliResult<()> {
    let dir = config_dir()?;
    let _lock = Lock::take(&dir)?;
    let mut store = Store::read(&dir)?;
    store.servers.insert(server.to_owned(), Profile { username: username.to_owned(), tokens: tokens.into() });
    store.current = Some(server.to_owned());
    store.write(&dir)
}

/// Forgets the login of `server`; returns it.
pub fn forget(server: &str) -> CliResult<Option<Profile>> {
    let dir = config_dir()?;
    let _lock = Lock::take(&dir)?;
    let mut store = Store::read(&dir)?;
    let removed = store.servers.remove(server);
    if store.current.as_deref() == Some(server) {
        store.current = store.servers.keys().next().cloned();
    }
    store.write(&dir)?;
    Ok(removed)
}

/// A logged-in connection to one server.
pub struct Session {
    /// The server's URL.
    pub server: String,
    dir: PathBuf,
    tokens: StoredTokens,
}

/// No login is stored for the server a command talks to.
#[derive(Debug)]
pub struct NotLoggedIn {
    /// That server's URL.
    pub server: String,
}

impl From<NotLoggedIn> for CliError {
    fn from(NotLoggedIn { server }: NotLoggedIn) -> CliError {
        CliError::new(LOGIN, format!("not logged in to {server}: log in with `nbw login {server}`"))
    }
}

impl Session {
    /// The stored login for `--server` (or the default server).
    pub fn open(server_flag: Option<&str>) -> CliResult<Session> {
        Ok(Session::find(server_flag)??)
    }

    /// The stored login for `--server` (or the default server), or which server has none: for
    /// commands that work without a server too.
    pub fn find(server_flag: Option<&str>) -> CliResult<Result<Session, NotLoggedIn>> {
        let dir = config_dir()?;
        let store = Store::read(&dir)?;
        let server = store.pick_server(server_flag);
        Ok(match store.servers.get(&server) {
            Some(profile) => Ok(Session { tokens: profile.tokens.clone(), server, dir }),
            None => Err(NotLoggedIn { server }),
        })
    }

    /// A client with a fresh access token (refreshed first when it expires within a minute).
    pub async fn client(&mut self) -> CliResult<UserClient> {
        if self.tokens.access_expires_at - Duration::seconds(MARGIN_SECS) <= Utc::now() {
            self.refresh().await?;
        }
        UserClient::new(&self.server, &self.tokens.access_token).map_err(CliError::from)
    }

    fn expired(&self, why: &str) -> CliError {
        CliError::new(
            LOGIN,
            format!(
                "your login to {} has expired ({why}): log in again with `nbw login {}`",
                self.server, self.server
            ),
        )
    }

    async fn refresh(&mut self) -> CliResult<()> {
        let _lock = Lock::take(&self.dir)?;
        let store = Store::read(&self.dir)?;
        let Some(profile) = store.servers.get(&self.server) else {
            return Err(CliError::new(
                LOGIN,
                format!("logged out of {}: log in again with `nbw login {}`", self.server, self.server),
            ));
        };
        // Another nbw may have refreshed meanwhile: its tokens are the ones to use.
        let now = Utc::now();
        if profile.tokens.access_expires_at - Duration::seconds(MARGIN_SECS) > now {
            self.tokens = profile.tokens.clone();
            return Ok(());
        }
        self.tokens = profile.tokens.clone();
        if self.tokens.refresh_expires_at <= now {
            return Err(self.expired("the refresh token is past its expiry"));
        }
        let anonymous = UserClient::new(&self.server, "")?;
        let tokens = match anonymous.refresh(&self.tokens.refresh_token).await {
            Ok(tokens) => tokens,
            Err(ClientError::Api { status: 401, message, .. }) => return Err(self.expired(&message)),
            Err(e) => return Err(e.into()),
        };
        // Stored at once: the old refresh token is spent from now on.
        let mut store = store;
        let entry = store.servers.get_mut(&self.server).expect("checked above");
        entry.tokens = tokens.into();
        self.tokens = entry.tokens.clone();
        store.write(&self.dir)
    }
}
