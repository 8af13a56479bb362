//! `nbw runtime build --remote`: a build queued on an agent with Docker, from a pushed bundle,
//! and followed like any run; the server records the version when it succeeds.

use nbw_core::api::{CreateBuild, Origin};

use super::BuildArgs;
use crate::client::credentials::Session;
use crate::client::executions::{self, WatchArgs};
use crate::client::{CliError, CliResult};

/// Queues the build of runtime `args.name` of `project`, then prints its id or follows it.
pub(super) async fn build(project: &str, args: &BuildArgs, server: Option<&str>) -> CliResult {
    let mut session = Session::open(server)?;
    let client = session.client().await?;
    let request = CreateBuild { bundle_version: args.version.clone(), origin: Some(Origin::Cli) };
    let execution = client.create_build(project, &args.name, &request).await.map_err(|e| {
        CliError::from_client(e, &format!("queueing a build of runtime {} in project {project}", args.name))
    })?;
    executions::started(&mut session, execution, &WatchArgs { watch: args.watch }, args.format).await
}
