//! What can go wrong talking to the server.

use nbw_core::api::ErrorBody;

/// A failed call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached (or the connection broke).
    #[error("cannot reach the nbw server at {url}: {reason}")]
    Transport {
        /// The server's base URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server answered with an error.
    #[error("{message} ({status}, {code})")]
    Api {
        /// HTTP status.
        status: u16,
        /// The stable error code, e.g. `not_found`, `lease_lost`.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The answer was not what the API promises.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
}

impl ClientError {
    pub(crate) async fn from_response(response: reqwest::Response) -> ClientError {
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => ClientError::Api { status, code: body.error.code, message: body.error.message },
            Err(_) => {
                ClientError::Api { status, code: "http".into(), message: text.chars().take(300).collect() }
            }
        }
    }

    /// The server's error code, if the server answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether trying again later may help: the server was unreachable or overloaded, or
    /// answered with a 5xx, 408 or 429.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Transport { .. } => true,
            ClientError::Api { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            ClientError::Decode(_) => false,
        }
    }
}
