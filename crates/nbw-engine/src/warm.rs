//! Kernels started ahead of time. A Python kernel boots in about half a second; an agent that
//! keeps a few ready takes that out of a run's latency. Each warm kernel serves exactly one run,
//! so papermill's fresh-kernel semantics hold.
//!
//! A warm kernel starts before the run is known, in a neutral directory with the agent's
//! environment. Before the first cell, a silent request (no execution count, no history, no
//! output in the notebook) moves it to the run's working directory and sets the run's
//! environment variables, secrets included. That request is Python, so only Python kernels
//! are kept warm.

use std::time::Duration;

use jupyter_protocol::Transport;
use nbw_core::params::{ParamValue, Parameters};
use serde_json::Value;
use tokio::time::Instant;

use crate::kernelspec::KernelSearch;
use crate::launch::{KernelProcess, LaunchSpec};
use crate::ready;
use crate::session::{Channel, Incoming, Session};
use crate::translate::translator_for;

/// A started, ready kernel waiting for its run.
pub struct WarmKernel {
    pub(crate) kernel: KernelProcess,
    pub(crate) session: Session,
    pub(crate) language_info: Option<Value>,
    name: String,
}

impl std::fmt::Debug for WarmKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarmKernel").field("name", &self.name).finish_non_exhaustive()
    }
}

impl WarmKernel {
    /// Starts the kernelspec `name` and waits until it answers. Only Python kernels qualify.
    pub async fn start(
        name: &str,
        search: &KernelSearch,
        startup_timeout: Duration,
    ) -> Result<WarmKernel, String> {
        let kernelspec = search.find(name).map_err(|e| e.to_string())?;
        if !kernelspec.spec.language.eq_ignore_ascii_case("python") {
            return Err(format!("kernel {name:?} is not a Python kernel: only Python kernels are kept warm"));
        }
        let launch = LaunchSpec {
            kernelspec,
            search: search.clone(),
            transport: Transport::IPC,
            cwd: Some(std::env::temp_dir()),
            env: Vec::new(),
            host: None,
        };
        let mut kernel = KernelProcess::start(&launch).await.map_err(|e| e.to_string())?;
        let deadline = Instant::now() + startup_timeout;
        let (session, language_info) = ready::connect(&mut kernel, deadline, name).await?;
        Ok(WarmKernel { kernel, session, language_info, name: name.to_owned() })
    }

    /// The kernelspec name.
    pub fn kernel_name(&self) -> &str {
        &self.name
    }

    /// Whether the kernel process is still there (a warm kernel can die while it waits).
    pub fn is_alive(&mut self) -> bool {
        self.kernel.is_running()
    }
}

/// Moves a warm kernel into the run: working directory and environment.
pub(crate) async fn setup(
    session: &mut Session,
    kernel: &mut KernelProcess,
    launch: &LaunchSpec,
    timeout: Duration,
) -> Result<(), String> {
    let mut values = Parameters::default();
    if let Some(cwd) = &launch.cwd {
        values.insert("__nbw_cwd", ParamValue::Str(cwd.to_string_lossy().into_owned()));
    }
    let env = launch.env.iter().map(|(k, v)| (k.clone(), ParamValue::Str(v.clone()))).collect();
    values.insert("__nbw_env", ParamValue::Dict(env));
    let python = translator_for("python").expect("the Python translator exists");
    let assignments = python.codify(&values).map_err(|e| e.to_string())?;
    let chdir = if launch.cwd.is_some() { "__nbw_os.chdir(__nbw_cwd)\n" } else { "" };
    // The kernel started before its run, so the run's PYTHONPATH reaches `sys.path` here, as it
    // would have at a cold start.
    let path = "import sys as __nbw_sys\n__nbw_sys.path[:0] = [p for p in __nbw_env.get('PYTHONPATH', '').split(__nbw_os.pathsep) if p and p not in __nbw_sys.path]\n";
    let code = format!(
        "{assignments}import os as __nbw_os\n{chdir}__nbw_os.environ.update(__nbw_env)\n{path}del __nbw_os, __nbw_sys, __nbw_env{}\n",
        if launch.cwd.is_some() { ", __nbw_cwd" } else { "" }
    );
    let msg_id = session.execute_silently(&code).await.map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    let (mut reply, mut idle) = (None::<Value>, false);
    while reply.is_none() || !idle {
        tokio::select! {
            incoming = session.recv() => match incoming {
                Some(Incoming::Message(m)) if m.parent_id.as_deref() == Some(msg_id.as_str()) => {
                    if m.channel == Channel::Shell && m.msg_type == "execute_reply" {
                        reply = Some(m.content);
                    } else if m.channel == Channel::IoPub && m.msg_type == "status" {
                        idle |= m.content.get("execution_state").and_then(Value::as_str) == Some("idle");
                    }
                }
                Some(_) => {}
                None => return Err("the warm kernel's sockets closed".into()),
            },
            status = kernel.wait() => return Err(ready::exited("the warm kernel exited", status)),
            _ = tokio::time::sleep_until(deadline) => return Err("the warm kernel did not take its run's setup in time".into()),
        }
    }
    match reply.as_ref().and_then(|r| r.get("status")).and_then(Value::as_str) {
        Some("ok") => Ok(()),
        _ => Err(format!("the warm kernel refused its run's setup: {}", reply.unwrap_or_default())),
    }
}
