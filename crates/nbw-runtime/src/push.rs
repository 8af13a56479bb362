//! Pushing a built runtime image to a registry, so agents on other machines can pull it.
//! Credentials are the engine's business here: none are sent, so the registry must accept the
//! push as is (a registry on the agents' network, or one the engine is logged in to through a
//! credential helper of its own).

use bollard::Docker;
use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
use futures::StreamExt;

use crate::error::RuntimeError;
use crate::progress::Lines;

/// Tags the image `tag` as `<registry>/<tag>` and pushes it, passing the push's progress to
/// `log`; returns the pushed reference.
pub async fn push(
    docker: &Docker,
    tag: &str,
    registry: &str,
    log: &mut (dyn FnMut(&str) + Send),
) -> Result<String, RuntimeError> {
    let reference = format!("{}/{tag}", registry.trim_end_matches('/'));
    let (repository, version) = split(&reference);
    let engine = |action: String| move |source| RuntimeError::Engine { action, source };
    docker
        .tag_image(tag, Some(TagImageOptionsBuilder::default().repo(repository).tag(version).build()))
        .await
        .map_err(engine(format!("tagging {tag} as {reference}")))?;
    tracing::debug!(reference, "pushing a runtime image");
    let options = PushImageOptionsBuilder::default().tag(version).build();
    let mut stream = docker.push_image(repository, Some(options), None);
    let mut lines = Lines::new(log);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(status) = &info.status {
                    lines.line(status);
                }
            }
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                return Err(RuntimeError::PushFailed { reference, message: lines.failure(&error) });
            }
            Err(source) => return Err(engine(format!("pushing {reference}"))(source)),
        }
    }
    lines.finish();
    Ok(reference)
}

/// A reference's repository and tag (`latest` when it has none); a `:` before the last `/` is
/// a registry's port, not a tag.
fn split(reference: &str) -> (&str, &str) {
    match reference.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => (repository, tag),
        _ => (reference, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_at_the_tag_not_the_port() {
        assert_eq!(split("localhost:5000/nbw/p/r:v1"), ("localhost:5000/nbw/p/r", "v1"));
        assert_eq!(split("localhost:5000/nbw/p/r"), ("localhost:5000/nbw/p/r", "latest"));
        assert_eq!(split("registry/nbw/p/r:v1"), ("registry/nbw/p/r", "v1"));
    }
}
