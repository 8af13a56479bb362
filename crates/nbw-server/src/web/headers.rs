//! The security headers of every page: a strict Content-Security-Policy (scripts and styles
//! only from nbw's own hashed files; notebook HTML lives in sandboxed `srcdoc` frames, which
//! inherit this policy, so their one base stylesheet is allowed by hash), no framing of nbw by
//! other sites, no referrer sent elsewhere, no MIME sniffing.

use std::sync::LazyLock;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The policy. `img-src data:` because notebook images are inline `data:` URIs; `frame-src
/// 'self' data:` for the output frames; `connect-src 'self'` for the event stream.
pub static CSP: LazyLock<String> = LazyLock::new(|| {
    let frame_style =
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(nbw_render::FRAME_STYLE));
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'sha256-{frame_style}'; \
         img-src 'self' data:; frame-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
});

/// Adds the headers to a web response.
pub async fn secure(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&CSP).expect("the policy is ASCII"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
