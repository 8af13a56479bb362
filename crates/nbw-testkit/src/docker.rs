//! The Docker engine for tests: whether it is there (the rule for when it is not lives here,
//! once), the base image runtime tests build on, and removing what a test built.

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

/// The base image of runtime tests: Debian bookworm with python3 and ipykernel from apt, made
/// by `scripts/docker-base-image.sh` (no registry needed).
pub const DOCKER_BASE_IMAGE: &str = "nbw-test/python:latest";

/// Whether a Docker test can run: true when the engine answers. Without an engine the test
/// fails when `CI` is set (a CI machine must have one); otherwise this prints a notice and
/// returns false, and the test returns early.
pub fn docker_or_skip() -> bool {
    match engine_status("/_ping") {
        Ok(200) => true,
        outcome => {
            let why = match outcome {
                Ok(status) => format!("it answered /_ping with HTTP {status}"),
                Err(e) => e,
            };
            assert!(std::env::var_os("CI").is_none(), "this test needs the Docker engine (CI is set): {why}");
            eprintln!("skipped: no Docker engine ({why}); with CI set this is a failure");
            false
        }
    }
}

/// [`DOCKER_BASE_IMAGE`], built first (`scripts/docker-base-image.sh`, cached) if the engine
/// does not have it.
pub fn docker_base_image() -> &'static str {
    if engine_status(&format!("/images/{DOCKER_BASE_IMAGE}/json")) != Ok(200) {
        let script = crate::repo_root().join("scripts/docker-base-image.sh");
        let status =
            Command::new(&script).status().unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        assert!(status.success(), "{} failed: the Docker tests have no base image", script.display());
    }
    DOCKER_BASE_IMAGE
}

/// Every image carrying a label (`key=value`), removed when this is dropped, so a test's
/// images go even when it fails; a build's intermediate images carry the label too when the
/// Dockerfile sets it early.
pub struct LabelledImages {
    label: String,
}

impl LabelledImages {
    /// Images labelled `label` (`key=value`).
    pub fn new(label: impl Into<String>) -> LabelledImages {
        LabelledImages { label: label.into() }
    }
}

impl Drop for LabelledImages {
    fn drop(&mut self) {
        let filter = format!("label={}", self.label);
        let Ok(listed) =
            Command::new("docker").args(["image", "ls", "-a", "-q", "--filter", &filter]).output()
        else {
            return;
        };
        let mut ids: Vec<String> =
            String::from_utf8_lossy(&listed.stdout).split_whitespace().map(str::to_owned).collect();
        ids.dedup();
        if !ids.is_empty() {
            let _ = Command::new("docker").args(["rmi", "-f"]).args(&ids).output();
        }
    }
}

/// `docker run --rm IMAGE ARGS...`: its exit status and its stdout and stderr.
pub fn docker_run(image: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new("docker")
        .args(["run", "--rm", image])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running the docker CLI: {e}"));
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// The HTTP status of a GET on the engine (`DOCKER_HOST`, else the local socket); plain
/// sockets, so that asking needs neither the docker CLI nor an async runtime.
fn engine_status(path: &str) -> Result<u16, String> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned());
    let request = format!("GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n");
    let timeout = Some(Duration::from_secs(5));
    let mut response = Vec::new();
    let fail = |e: std::io::Error| format!("{host}: {e}");
    if let Some(socket) = host.strip_prefix("unix://") {
        let mut stream = std::os::unix::net::UnixStream::connect(socket).map_err(fail)?;
        stream.set_read_timeout(timeout).map_err(fail)?;
        stream.write_all(request.as_bytes()).map_err(fail)?;
        stream.read_to_end(&mut response).map_err(fail)?;
    } else if let Some(address) = host.strip_prefix("tcp://").or_else(|| host.strip_prefix("http://")) {
        let mut stream = std::net::TcpStream::connect(address.trim_end_matches('/')).map_err(fail)?;
        stream.set_read_timeout(timeout).map_err(fail)?;
        stream.write_all(request.as_bytes()).map_err(fail)?;
        stream.read_to_end(&mut response).map_err(fail)?;
    } else {
        return Err(format!("DOCKER_HOST={host} is neither unix:// nor tcp://"));
    }
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| format!("{host} answered something that is not HTTP"))
}
