//! `nbw runtime list`: the runtime versions recorded on the server, newest first.

use nbw_core::api::Runtime;

use crate::client::credentials::Session;
use crate::client::output::{self, Format};
use crate::client::{CliError, CliResult, OK};

/// Prints the versions of `project`'s runtimes (of runtime `name` only, when given).
pub(super) async fn list(
    project: &str,
    name: Option<&str>,
    format: Format,
    server: Option<&str>,
) -> CliResult {
    let mut session = Session::open(server)?;
    let client = session.client().await?;
    let versions = client
        .runtimes(project, name)
        .await
        .map_err(|e| CliError::from_client(e, &format!("listing the runtimes of {project}")))?;
    output::print(format, &versions, || table(&versions));
    if format == Format::Table && versions.is_empty() {
        eprintln!(
            "No runtime versions recorded in project {project} yet: build one with `nbw runtime build NAME`."
        );
    }
    Ok(OK)
}

fn table(versions: &[Runtime]) -> String {
    let mut table = output::table(["name", "version", "image", "image id", "dockerfile", "created"]);
    for runtime in versions {
        table.add_row([
            runtime.name.clone(),
            runtime.version.clone(),
            runtime.image.clone(),
            short(runtime.image_id.as_deref()),
            short(runtime.dockerfile_hash.as_deref()),
            output::ago(runtime.created_at),
        ]);
    }
    table.to_string()
}

/// A short id, or `-` when the version was recorded without one.
fn short(id: Option<&str>) -> String {
    id.map(output::short_id).unwrap_or("-").to_owned()
}
