//! Pushing a runtime image: the real Docker engine pushes to a fake registry on loopback (no
//! registry exists on these machines; the engine speaks plain HTTP to one on 127.0.0.1).

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use nbw_core::image::runtime_image_tag;
use nbw_runtime::RuntimeError;
use nbw_testkit::{LabelledImages, docker_or_skip};
use sha2::{Digest, Sha256};

/// What the fake registry was sent.
#[derive(Default)]
struct Received {
    /// Blobs by digest.
    blobs: HashMap<String, Vec<u8>>,
    /// Uploads in progress by id.
    uploads: HashMap<String, Vec<u8>>,
    /// Manifests by `repository:tag`.
    manifests: HashMap<String, Vec<u8>>,
}

type Registry = Arc<Mutex<Received>>;

/// Just enough of the Registry HTTP API v2 for the engine to push: the version check, blob
/// existence, monolithic or chunked blob uploads, and manifests. It checks every digest.
struct FakeRegistry {
    address: String,
    received: Registry,
}

impl FakeRegistry {
    async fn start() -> FakeRegistry {
        let received = Registry::default();
        let app = axum::Router::new().fallback(handle).with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeRegistry { address, received }
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect::<String>())
}

async fn handle(State(registry): State<Registry>, method: Method, uri: Uri, body: Bytes) -> Response {
    let path = uri.path();
    let query: HashMap<String, String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace("%3A", ":")))
        .collect();
    let mut received = registry.lock().unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("Docker-Distribution-API-Version", "registry/2.0".parse().unwrap());
    if path == "/v2/" {
        return (StatusCode::OK, headers, "{}").into_response();
    }
    let Some(rest) = path.strip_prefix("/v2/") else { return StatusCode::NOT_FOUND.into_response() };
    if let Some((_, digest)) = rest.rsplit_once("/blobs/")
        && digest.starts_with("sha256:")
    {
        let Some(blob) = received.blobs.get(digest) else { return StatusCode::NOT_FOUND.into_response() };
        headers.insert(header::CONTENT_LENGTH, blob.len().into());
        headers.insert("Docker-Content-Digest", digest.parse().unwrap());
        return (StatusCode::OK, headers).into_response();
    }
    if let Some((repository, upload)) = rest.split_once("/blobs/uploads/") {
        let id = match (method.as_str(), upload) {
            ("POST", "") => {
                let id = format!("u{}", received.uploads.len() + received.blobs.len());
                received.uploads.insert(id.clone(), Vec::new());
                id
            }
            _ => upload.to_owned(),
        };
        let Some(data) = received.uploads.get_mut(&id) else { return StatusCode::NOT_FOUND.into_response() };
        data.extend_from_slice(&body);
        let size = data.len();
        if method == Method::PUT {
            let data = received.uploads.remove(&id).unwrap();
            let digest = query.get("digest").cloned().unwrap_or_default();
            if sha256(&data) != digest {
                return (StatusCode::BAD_REQUEST, "digest mismatch").into_response();
            }
            headers.insert(header::LOCATION, format!("/v2/{repository}/blobs/{digest}").parse().unwrap());
            headers.insert("Docker-Content-Digest", digest.parse().unwrap());
            received.blobs.insert(digest, data);
            return (StatusCode::CREATED, headers).into_response();
        }
        headers.insert(header::LOCATION, format!("/v2/{repository}/blobs/uploads/{id}").parse().unwrap());
        headers.insert(header::RANGE, format!("0-{}", size.saturating_sub(1)).parse().unwrap());
        headers.insert("Docker-Upload-UUID", id.parse().unwrap());
        return (StatusCode::ACCEPTED, headers).into_response();
    }
    if let Some((repository, reference)) = rest.rsplit_once("/manifests/") {
        let key = format!("{repository}:{reference}");
        if method == Method::PUT {
            let digest = sha256(&body);
            headers.insert(header::LOCATION, format!("/v2/{repository}/manifests/{digest}").parse().unwrap());
            headers.insert("Docker-Content-Digest", digest.parse().unwrap());
            received.manifests.insert(key, body.to_vec());
            return (StatusCode::CREATED, headers).into_response();
        }
        return StatusCode::NOT_FOUND.into_response();
    }
    StatusCode::NOT_FOUND.into_response()
}

#[tokio::test]
async fn a_built_image_is_pushed_to_the_registry_with_its_layers() {
    if !docker_or_skip() {
        return;
    }
    let project = format!("t{}", nbw_testkit::unique_suffix());
    let _images = LabelledImages::new(format!("nbw.project={project}"));
    // An image of one small layer, from scratch: nothing to pull, little to push.
    let dir = nbw_testkit::tempdir();
    std::fs::write(
        dir.path().join("nbw.yaml"),
        format!("project: {project}\nruntimes:\n  default:\n    image: scratch\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Dockerfile.default"),
        format!("FROM scratch\nLABEL nbw.project={project}\nCOPY hello.txt /hello.txt\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello from nbw\n").unwrap();
    let loaded = nbw_core::project::load(&dir.path().join("nbw.yaml")).unwrap();
    let dockerfile = nbw_runtime::dockerfile(dir.path(), &loaded.spec, "default").unwrap();
    let tag = runtime_image_tag(&project, "default", "v1");
    let docker = nbw_runtime::connect().await.unwrap();
    nbw_runtime::build(&docker, dir.path(), &dockerfile, &tag, &mut |_| {}).await.unwrap();

    let registry = FakeRegistry::start().await;
    let mut log = Vec::new();
    let reference =
        nbw_runtime::push(&docker, &tag, &registry.address, &mut |line: &str| log.push(line.to_owned()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reference, format!("{}/nbw/{project}/default:v1", registry.address));
    assert!(log.iter().any(|l| l.contains("digest: sha256:")), "{log:?}");

    let received = registry.received.lock().unwrap();
    let manifest = &received.manifests[&format!("nbw/{project}/default:v1")];
    let manifest: serde_json::Value = serde_json::from_slice(manifest).unwrap();
    let config = manifest["config"]["digest"].as_str().unwrap();
    assert!(received.blobs.contains_key(config), "the image config was not pushed");
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    let layer = &received.blobs[layers[0]["digest"].as_str().unwrap()];
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(layer.as_slice()));
    let mut hello = String::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some("hello.txt") {
            entry.read_to_string(&mut hello).unwrap();
        }
    }
    assert_eq!(hello, "hello from nbw\n");
}

#[tokio::test]
async fn a_push_nobody_receives_fails_with_the_engines_reason() {
    if !docker_or_skip() {
        return;
    }
    let project = format!("t{}", nbw_testkit::unique_suffix());
    let _images = LabelledImages::new(format!("nbw.project={project}"));
    let dir = nbw_testkit::tempdir();
    std::fs::write(dir.path().join("Dockerfile"), format!("FROM scratch\nLABEL nbw.project={project}\n"))
        .unwrap();
    let docker = nbw_runtime::connect().await.unwrap();
    let tag = runtime_image_tag(&project, "default", "v1");
    let file = nbw_runtime::Dockerfile {
        text: std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        hash: "0".repeat(64),
        owned_by_user: true,
        path: None,
    };
    nbw_runtime::build(&docker, dir.path(), &file, &tag, &mut |_| {}).await.unwrap();
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let error = nbw_runtime::push(&docker, &tag, &closed, &mut |_| {}).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, RuntimeError::PushFailed { .. }), "{error:?}");
    assert!(message.starts_with(&format!("pushing {closed}/{tag} failed: ")), "{message}");
    assert!(message.contains("connection refused"), "{message}");
}
