//! Who is calling, and what they may do.
//!
//! - [`keys`]: the server's secret key and what is derived from it (JWT signing, the secrets
//!   master key);
//! - [`token`]: short-lived JWT access tokens;
//! - [`identity`]: who a request comes from (a user or an agent), as plain data;
//! - [`caller`]: whose token it is (a user's access token, an agent's token);
//! - [`access`]: project roles, checked on every project route (a non-member gets 404);
//! - [`accounts`]: user accounts; [`password`]: argon2id hashes;
//! - [`session`]: login, refresh and logout; [`refresh`]: rotating refresh tokens;
//!   [`limit`]: the login rate limit;
//! - [`agents`]: the agents registry (register, hello, revoke).

pub mod access;
pub mod accounts;
pub mod agents;
pub mod caller;
pub mod identity;
pub mod keys;
pub mod limit;
pub mod password;
pub mod refresh;
pub mod session;
pub mod token;

pub use access::ProjectAccess;
pub use identity::{AgentCaller, UserCaller};
pub use keys::Keys;
