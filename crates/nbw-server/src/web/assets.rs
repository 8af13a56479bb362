//! The UI's assets, embedded in the binary: one stylesheet (the page's own rules and
//! nbw-render's notebook styles), one script (the live parts) and the tiny script of notebook
//! HTML output frames (their height). Each is served under a name
//! carrying a hash of its content, `/assets/app.<hash>.css`, so it can be cached for a year:
//! a new build with a changed file gets a new name.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file.
pub struct Asset {
    /// Its URL path, with the content hash.
    pub path: String,
    body: &'static str,
    content_type: &'static str,
}

impl Asset {
    fn new(stem: &str, extension: &str, body: &'static str, content_type: &'static str) -> Asset {
        let digest = Sha256::digest(body.as_bytes());
        let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        Asset { path: format!("/assets/{stem}.{hash}.{extension}"), body, content_type }
    }
}

/// The stylesheet.
pub static CSS: LazyLock<Asset> = LazyLock::new(|| {
    let css: &'static str = Box::leak(
        format!("{}\n{}", include_str!("../../assets/app.css"), nbw_render::NOTEBOOK_CSS).into_boxed_str(),
    );
    Asset::new("app", "css", css, "text/css; charset=utf-8")
});

/// The script.
pub static JS: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new("app", "js", include_str!("../../assets/app.js"), "text/javascript; charset=utf-8")
});

/// The script of notebook HTML output frames (see [`super::frames`]).
pub static FRAME_JS: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new("frame", "js", include_str!("../../assets/frame.js"), "text/javascript; charset=utf-8")
});

/// `GET /assets/{file}`: an asset by its hashed name; any other name is 404.
pub async fn serve(Path(file): Path<String>) -> Response {
    let wanted = format!("/assets/{file}");
    match [&*CSS, &*JS, &*FRAME_JS].into_iter().find(|asset| asset.path == wanted) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
