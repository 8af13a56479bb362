//! Runtime builds. A build job runs no notebook: its bundle is the build context, and the
//! runtime's Dockerfile (the bundle's own `Dockerfile.<runtime>`, or the one rendered from its
//! `nbw.yaml`) becomes the image the server named. Each line of the build's output is an
//! `output` event of the execution, so `nbw logs -f` and the event stream show a build as it
//! goes, as they show a run. With a registry configured, the image is pushed and the pushed
//! reference is what the server records, so agents on other machines can pull it.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::Utc;
use nbw_core::api::{BuildSpec, ExecutionEvent, ExecutionResult, ExecutionState};
use serde_json::json;
use tokio::sync::mpsc;

use crate::docker::DockerExecutor;
use crate::forward::Forwarder;
use crate::leases::Controls;
use crate::redact::Redactor;

/// Builds the image of `build` from the bundle unpacked in `workdir`.
pub async fn build_image(
    docker: &DockerExecutor,
    build: &BuildSpec,
    workdir: &Path,
    registry: Option<&str>,
    controls: &Controls,
    forwarder: &Forwarder,
    redactor: &Redactor,
) -> anyhow::Result<ExecutionResult> {
    let started = Instant::now();
    let file = workdir.join(nbw_core::project::FILE_NAME);
    let text =
        std::fs::read_to_string(&file).context("the bundle has no nbw.yaml, so it defines no runtime")?;
    let project = nbw_core::project::parse(&text, Path::new(nbw_core::project::FILE_NAME), Some(workdir))?;
    let dockerfile = nbw_runtime::dockerfile(workdir, &project, &build.runtime)?;
    let (lines, mut received) = mpsc::unbounded_channel::<String>();
    let mut log = move |line: &str| {
        let _ = lines.send(line.to_owned());
    };
    let work = async {
        let mut built =
            nbw_runtime::build(docker.api(), workdir, &dockerfile, &build.image, &mut log).await?;
        if let Some(registry) = registry {
            built.image = nbw_runtime::push(docker.api(), &build.image, registry, &mut log).await?;
        }
        drop(log);
        anyhow::Ok(built)
    };
    let stream = async {
        let mut seq = 0;
        while let Some(line) = received.recv().await {
            seq += 1;
            let output = json!({"output_type": "stream", "name": "stdout", "text": format!("{line}\n")});
            let mut payload = json!({"cell": 0, "output": output});
            redactor.json(&mut payload);
            forwarder.send(ExecutionEvent { seq, kind: "output".into(), payload, time: Utc::now() });
        }
    };
    let outcome = tokio::select! {
        (built, ()) = async { tokio::join!(work, stream) } => Some(built),
        _ = controls.stop.cancelled() => None,
    };
    let duration_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    let result = |state, message: Option<String>, image| ExecutionResult {
        values: None,
        values_error: None,
        state,
        message,
        failed_cell: None,
        failed_source: None,
        duration_ms,
        image,
    };
    Ok(match outcome {
        Some(Ok(built)) => result(ExecutionState::Succeeded, None, Some(built)),
        Some(Err(e)) => result(ExecutionState::Failed, Some(redactor.text(&format!("{e:#}"))), None),
        None => result(ExecutionState::Cancelled, Some("the build was cancelled".into()), None),
    })
}
