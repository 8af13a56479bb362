//! Connecting to a starting kernel and waiting until it is ready: `kernel_info_reply` on shell
//! and a first message (welcome or status) on IOPub, so no broadcast of the first cell can be
//! missed. The kernel's death or the deadline ends the wait with the reason and the kernel's
//! last output.

use std::time::Duration;

use serde_json::Value;
use tokio::time::{Instant, sleep_until};

use crate::launch::KernelProcess;
use crate::session::{Channel, Incoming, Session};

/// A connected, ready session and the kernel's `language_info`; or why the kernel is not usable.
pub async fn connect(
    kernel: &mut KernelProcess,
    deadline: Instant,
    name: &str,
) -> Result<(Session, Option<Value>), String> {
    let started = Instant::now();
    let fail = |kernel: &KernelProcess, why: String| {
        let tail = kernel.output_tail();
        if tail.is_empty() { why } else { format!("{why}; the kernel printed:\n{tail}") }
    };
    let connection = kernel.connection.clone();
    let mut session = tokio::select! {
        session = Session::connect(&connection, deadline) => match session {
            Ok(session) => session,
            Err(e) => return Err(fail(kernel, format!("kernel {name:?} did not start: {e}"))),
        },
        status = kernel.wait() => return Err(fail(kernel, exited("the kernel exited while starting", status))),
    };
    let mut info_requests = Vec::new();
    let mut info = None;
    let mut iopub_seen = false;
    let mut resend = Instant::now();
    while info.is_none() || !iopub_seen {
        if Instant::now() >= resend {
            // Older kernels publish on PUB and give no welcome: ask again until IOPub speaks.
            match session.kernel_info().await {
                Ok(id) => info_requests.push(id),
                Err(e) => return Err(fail(kernel, e.to_string())),
            }
            resend = Instant::now() + Duration::from_secs(1);
        }
        tokio::select! {
            incoming = session.recv() => match incoming {
                Some(Incoming::Message(m)) if m.channel == Channel::IoPub => iopub_seen = true,
                Some(Incoming::Message(m)) if m.msg_type == "kernel_info_reply"
                    && m.parent_id.as_ref().is_some_and(|p| info_requests.contains(p)) => info = Some(m.content),
                Some(_) => {}
                None => return Err(fail(kernel, "the kernel's sockets closed while starting".into())),
            },
            status = kernel.wait() => return Err(fail(kernel, exited("the kernel exited while starting", status))),
            _ = sleep_until(deadline.min(resend)) => {
                if Instant::now() >= deadline {
                    let seconds = (deadline - started).as_secs();
                    return Err(fail(kernel, format!("kernel {name:?} did not answer within {seconds} s")));
                }
            }
        }
    }
    Ok((session, info.and_then(|i| i.get("language_info").cloned())))
}

/// "what (how it ended)".
pub fn exited(what: &str, end: String) -> String {
    format!("{what} ({end})")
}
