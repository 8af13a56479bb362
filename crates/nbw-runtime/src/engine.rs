//! Reaching the Docker engine: `DOCKER_HOST` (a `unix://` socket, or `tcp://` without TLS)
//! or the local socket, speaking the highest API version both sides know (the engines of these
//! machines speak 1.41, older than bollard's default).

use bollard::Docker;

use crate::error::RuntimeError;

/// Where the engine is when `DOCKER_HOST` is not set.
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// The engine `DOCKER_HOST` names, or the local one, with the API version negotiated.
pub async fn connect() -> Result<Docker, RuntimeError> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| DEFAULT_HOST.to_owned());
    let unreachable = |source| RuntimeError::Unreachable { host: host.clone(), source };
    let docker = Docker::connect_with_defaults().map_err(unreachable)?;
    let docker = docker.negotiate_version().await.map_err(unreachable)?;
    tracing::debug!(%host, version = %docker.client_version(), "connected to the Docker engine");
    Ok(docker)
}
