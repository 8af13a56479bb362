//! The Jupyter protocol client: sockets, requests, and the messages a kernel sends back.
//!
//! Requests are sent as `jupyter-protocol` types. Replies and broadcasts are read raw (the
//! signature is still checked) and kept as JSON: the typed reader of `jupyter-zmq-client`
//! refuses a message whose content it cannot parse, and a refused `display_data` would be an
//! output silently lost. One reader task per socket feeds a single channel, so the run loop's
//! `select!` stays cancel-safe and IOPub is drained while shell is waited on.
//!
//! Connecting retries each socket with a fresh one until a deadline: zmq.rs does not retry a
//! connection reset during the handshake, which happens while a kernel boots (measured: 4 in 40
//! starts under load over TCP).

use std::time::Duration;

use jupyter_protocol::{
    ConnectionInfo, ExecuteRequest, InterruptRequest, JupyterMessage, JupyterMessageContent,
    KernelInfoRequest, ShutdownRequest,
};
use jupyter_zmq_client::{
    DealerSendConnection, RawMessage, create_client_control_connection, create_client_iopub_connection,
    create_client_shell_connection_with_identity, peer_identity_for_session,
};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;
use zeromq::SocketRecv;

/// The socket a message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Replies to execute and info requests.
    Shell,
    /// Broadcasts: outputs and status.
    IoPub,
    /// Replies to interrupt and shutdown requests.
    Control,
}

/// A message from the kernel, its content kept as JSON.
#[derive(Debug, Clone)]
pub struct KernelMessage {
    /// The socket it came from.
    pub channel: Channel,
    /// `header.msg_type`.
    pub msg_type: String,
    /// `header.msg_id`.
    pub msg_id: String,
    /// `header.date`, as the kernel wrote it.
    pub date: Option<String>,
    /// `parent_header.msg_id`, when there is a parent.
    pub parent_id: Option<String>,
    /// The message content.
    pub content: Value,
}

/// What a reader task passes on.
#[derive(Debug)]
pub enum Incoming {
    /// A well-formed, correctly signed message.
    Message(KernelMessage),
    /// A message that could not be read: a bad signature or malformed JSON. The run that sees
    /// one cannot claim its output is complete.
    Corrupt(Channel, String),
    /// A socket stopped delivering.
    Closed,
}

/// The protocol could not be set up or used.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// A socket did not connect before the deadline.
    #[error("could not connect to the kernel's {channel} socket within {seconds} s: {reason}")]
    Connect {
        /// Which socket.
        channel: &'static str,
        /// The deadline.
        seconds: u64,
        /// The last error seen.
        reason: String,
    },
    /// Sending a request failed.
    #[error("sending {msg_type} to the kernel failed: {reason}")]
    Send {
        /// The request type.
        msg_type: &'static str,
        /// Why.
        reason: String,
    },
}

/// A connected client: senders for shell and control, and the merged stream of everything the
/// kernel sends.
pub struct Session {
    shell: DealerSendConnection,
    control: DealerSendConnection,
    incoming: mpsc::UnboundedReceiver<Incoming>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Session {
    /// Connects iopub first (so no broadcast is missed), then shell and control.
    pub async fn connect(info: &ConnectionInfo, deadline: Instant) -> Result<Self, SessionError> {
        let session_id = uuid::Uuid::new_v4().to_string();
        let (tx, incoming) = mpsc::unbounded_channel();
        let mut readers = Vec::new();

        let iopub =
            retry("iopub", info, deadline, || create_client_iopub_connection(info, "", &session_id)).await?;
        readers.push(spawn_reader(Channel::IoPub, iopub.socket, iopub.mac, tx.clone()));

        let shell = retry("shell", info, deadline, || async {
            let identity = peer_identity_for_session(&session_id)?;
            create_client_shell_connection_with_identity(info, &session_id, identity).await
        })
        .await?;
        let (shell, shell_recv) = shell.split();
        readers.push(spawn_reader(Channel::Shell, shell_recv.socket, shell_recv.mac, tx.clone()));

        let control =
            retry("control", info, deadline, || create_client_control_connection(info, &session_id)).await?;
        let (control, control_recv) = control.split();
        readers.push(spawn_reader(Channel::Control, control_recv.socket, control_recv.mac, tx));

        Ok(Session { shell, control, incoming, readers })
    }

    /// The next message, corrupt frame or closed socket.
    pub async fn recv(&mut self) -> Option<Incoming> {
        self.incoming.recv().await
    }

    /// The messages already received and not yet taken, without waiting.
    pub fn drain(&mut self) -> Vec<Incoming> {
        std::iter::from_fn(|| self.incoming.try_recv().ok()).collect()
    }

    /// Sends `execute_request`; returns its msg_id.
    pub async fn execute(&mut self, code: &str, stop_on_error: bool) -> Result<String, SessionError> {
        let request = ExecuteRequest {
            code: code.to_owned(),
            silent: false,
            store_history: true,
            user_expressions: None,
            allow_stdin: false,
            stop_on_error,
        };
        send(&mut self.shell, request.into(), "execute_request").await
    }

    /// Sends a silent `execute_request`: no execution count, no history, no broadcast of the
    /// code or its result. Returns its msg_id.
    pub async fn execute_silently(&mut self, code: &str) -> Result<String, SessionError> {
        let request = ExecuteRequest {
            code: code.to_owned(),
            silent: true,
            store_history: false,
            user_expressions: None,
            allow_stdin: false,
            stop_on_error: true,
        };
        send(&mut self.shell, request.into(), "execute_request").await
    }

    /// Sends `kernel_info_request`; returns its msg_id.
    pub async fn kernel_info(&mut self) -> Result<String, SessionError> {
        send(&mut self.shell, KernelInfoRequest {}.into(), "kernel_info_request").await
    }

    /// Sends `interrupt_request` on control, for kernels whose interrupt mode is `message`.
    pub async fn interrupt(&mut self) -> Result<String, SessionError> {
        send(&mut self.control, InterruptRequest {}.into(), "interrupt_request").await
    }

    /// Asks the kernel to exit.
    pub async fn shutdown(&mut self) -> Result<String, SessionError> {
        let request = ShutdownRequest { restart: false };
        send(&mut self.control, request.into(), "shutdown_request").await
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}

async fn send(
    conn: &mut DealerSendConnection,
    content: JupyterMessageContent,
    msg_type: &'static str,
) -> Result<String, SessionError> {
    let message = JupyterMessage::new(content, None);
    let msg_id = message.header.msg_id.clone();
    conn.send(message).await.map_err(|e| SessionError::Send { msg_type, reason: e.to_string() })?;
    Ok(msg_id)
}

/// Connects with a fresh socket per attempt until `deadline`. For IPC the socket file is polled
/// first, at a short interval: zmq.rs's own backoff on a missing file grows to hundreds of ms.
async fn retry<T, F, Fut>(
    channel: &'static str,
    info: &ConnectionInfo,
    deadline: Instant,
    mut connect: F,
) -> Result<T, SessionError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = jupyter_zmq_client::Result<T>>,
{
    let seconds = deadline.saturating_duration_since(Instant::now()).as_secs();
    let ipc_file = ipc_socket_file(info, channel);
    loop {
        let ready = ipc_file.as_deref().is_none_or(|f| std::path::Path::new(f).exists());
        let last_error = if ready {
            match tokio::time::timeout_at(deadline, connect()).await {
                Ok(Ok(conn)) => return Ok(conn),
                Ok(Err(e)) => e.to_string(),
                Err(_) => "timed out".to_owned(),
            }
        } else {
            "the kernel has not created its socket yet".to_owned()
        };
        if Instant::now() >= deadline {
            return Err(SessionError::Connect { channel, seconds, reason: last_error });
        }
        tracing::debug!(channel, error = %last_error, "kernel socket not ready, retrying");
        tokio::time::sleep(Duration::from_millis(if ready { 20 } else { 5 })).await;
    }
}

fn ipc_socket_file(info: &ConnectionInfo, channel: &str) -> Option<String> {
    if info.transport != jupyter_protocol::Transport::IPC {
        return None;
    }
    let port = match channel {
        "iopub" => info.iopub_port,
        "shell" => info.shell_port,
        _ => info.control_port,
    };
    Some(format!("{}-{}", info.ip, port))
}

fn spawn_reader<S>(
    channel: Channel,
    mut socket: S,
    mac: Option<ring::hmac::Key>,
    tx: mpsc::UnboundedSender<Incoming>,
) -> tokio::task::JoinHandle<()>
where
    S: SocketRecv + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let item = match socket.recv().await {
                Ok(frames) => parse(channel, frames, &mac),
                Err(e) => {
                    tracing::debug!(?channel, error = %e, "kernel socket closed");
                    let _ = tx.send(Incoming::Closed);
                    return;
                }
            };
            if tx.send(item).is_err() {
                return;
            }
        }
    })
}

fn parse(channel: Channel, frames: zeromq::ZmqMessage, mac: &Option<ring::hmac::Key>) -> Incoming {
    let raw = match RawMessage::from_multipart(frames, mac) {
        Ok(raw) => raw,
        Err(e) => return Incoming::Corrupt(channel, e.to_string()),
    };
    let json = |i: usize| serde_json::from_slice::<Value>(&raw.jparts[i]);
    let (Ok(header), Ok(parent), Ok(content)) = (json(0), json(1), json(3)) else {
        return Incoming::Corrupt(channel, "a message part is not valid JSON".into());
    };
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    Incoming::Message(KernelMessage {
        channel,
        msg_type: text(&header, "msg_type").unwrap_or_default(),
        msg_id: text(&header, "msg_id").unwrap_or_default(),
        date: text(&header, "date"),
        parent_id: text(&parent, "msg_id"),
        content,
    })
}
