//! Building a runtime image over the Engine API with the classic builder (the engines here
//! have no BuildKit session support to lean on), streaming the build's output as it comes.

use std::collections::HashMap;
use std::path::Path;

use bollard::Docker;
use bollard::query_parameters::BuildImageOptionsBuilder;
use futures::StreamExt;
use nbw_core::api::BuiltImage;

use crate::context::{self, DOCKERFILE_PATH};
use crate::dockerfile::Dockerfile;
use crate::error::RuntimeError;
use crate::progress::Lines;

/// The label holding the SHA-256 of the Dockerfile an image was built from.
pub const DOCKERFILE_HASH_LABEL: &str = "nbw.dockerfile-hash";

/// Builds `dockerfile` with the project folder as the context and tags the image `tag`,
/// passing every line of the build's output to `log` as it arrives.
pub async fn build(
    docker: &Docker,
    project_dir: &Path,
    dockerfile: &Dockerfile,
    tag: &str,
    log: &mut (dyn FnMut(&str) + Send),
) -> Result<BuiltImage, RuntimeError> {
    let context = {
        let (dir, text) = (project_dir.to_owned(), dockerfile.text.clone());
        tokio::task::spawn_blocking(move || context::archive(&dir, &text))
            .await
            .expect("archiving the build context does not panic")?
    };
    tracing::debug!(
        tag,
        context_bytes = context.len(),
        owned_by_user = dockerfile.owned_by_user,
        "building a runtime image"
    );
    let labels = HashMap::from([(DOCKERFILE_HASH_LABEL, dockerfile.hash.as_str())]);
    let options = BuildImageOptionsBuilder::default()
        .dockerfile(DOCKERFILE_PATH)
        .t(tag)
        .labels(&labels)
        // Failed steps leave no containers behind.
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    let mut lines = Lines::new(log);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(text) = &info.stream {
                    lines.text(text);
                }
                if let Some(status) = &info.status {
                    lines.line(status);
                }
            }
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                return Err(RuntimeError::BuildFailed {
                    tag: tag.to_owned(),
                    message: lines.failure(&error),
                });
            }
            Err(source) => {
                return Err(RuntimeError::Engine { action: format!("building {tag}"), source });
            }
        }
    }
    lines.finish();
    let image = docker.inspect_image(tag).await.map_err(|source| RuntimeError::Engine {
        action: format!("inspecting the built image {tag}"),
        source,
    })?;
    let image_id = image.id.unwrap_or_default();
    tracing::debug!(tag, image_id, "built a runtime image");
    Ok(BuiltImage { image: tag.to_owned(), image_id, dockerfile_hash: dockerfile.hash.clone() })
}
