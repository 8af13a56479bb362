//! Bundles and output notebooks in an object store: a local directory by default, S3, GCS or
//! Azure by URL. Keys are built here from validated parts only (a digest's hex, an execution
//! id's restricted alphabet), so no request can name a path outside the store.

use std::sync::Arc;

use anyhow::{Context, bail};
use bytes::Bytes;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// What can be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactKey {
    /// A project bundle, by `sha256:<hex>` digest.
    Bundle(String),
    /// An execution's output notebook.
    Output(String),
}

impl ArtifactKey {
    fn path(&self, prefix: &StorePath) -> anyhow::Result<StorePath> {
        let (dir, name) = match self {
            ArtifactKey::Bundle(digest) => {
                let hex = digest.strip_prefix("sha256:").unwrap_or("");
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    bail!("not a sha256 digest: {digest:?}");
                }
                ("bundles", hex.to_owned())
            }
            ArtifactKey::Output(id) => {
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_') {
                    bail!("not an execution id: {id:?}");
                }
                ("outputs", format!("{id}.ipynb"))
            }
        };
        Ok(prefix.clone().join(dir).join(name))
    }
}

/// The artifact store.
#[derive(Debug, Clone)]
pub struct Artifacts {
    store: Arc<dyn ObjectStore>,
    prefix: StorePath,
}

impl Artifacts {
    /// Opens `location`: a directory path (created if missing), `file:///dir`, `s3://bucket/prefix`,
    /// `gs://bucket/prefix` or `az://container/prefix` (credentials from the usual environment
    /// variables of each cloud).
    pub fn open(location: &str) -> anyhow::Result<Artifacts> {
        if !location.contains("://") || location.starts_with("file://") {
            let dir = location.strip_prefix("file://").unwrap_or(location);
            std::fs::create_dir_all(dir).with_context(|| format!("creating artifacts directory {dir}"))?;
            let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
                .with_context(|| format!("opening artifacts directory {dir}"))?;
            return Ok(Artifacts { store: Arc::new(store), prefix: StorePath::default() });
        }
        let url = url::Url::parse(location).with_context(|| format!("artifacts URL {location:?}"))?;
        let (store, prefix) = object_store::parse_url_opts(&url, std::env::vars())
            .with_context(|| format!("opening artifacts store {location:?}"))?;
        Ok(Artifacts { store: Arc::from(store), prefix })
    }

    /// An in-memory store, for tests.
    pub fn in_memory() -> Artifacts {
        Artifacts { store: Arc::new(object_store::memory::InMemory::new()), prefix: StorePath::default() }
    }

    /// Stores `bytes` under `key` (replacing what was there).
    pub async fn put(&self, key: &ArtifactKey, bytes: Bytes) -> anyhow::Result<()> {
        let path = key.path(&self.prefix)?;
        self.store
            .put(&path, PutPayload::from_bytes(bytes))
            .await
            .with_context(|| format!("storing {path}"))?;
        Ok(())
    }

    /// Reads `key`; `None` when it does not exist.
    pub async fn get(&self, key: &ArtifactKey) -> anyhow::Result<Option<Bytes>> {
        let path = key.path(&self.prefix)?;
        match self.store.get(&path).await {
            Ok(result) => Ok(Some(result.bytes().await.with_context(|| format!("reading {path}"))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {path}")),
        }
    }

    /// Whether `key` exists.
    pub async fn exists(&self, key: &ArtifactKey) -> anyhow::Result<bool> {
        let path = key.path(&self.prefix)?;
        match self.store.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e).with_context(|| format!("looking up {path}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_cannot_leave_the_store() {
        let store = Artifacts::in_memory();
        assert!(store.put(&ArtifactKey::Output("../../etc/passwd".into()), Bytes::new()).await.is_err());
        assert!(store.put(&ArtifactKey::Bundle("sha256:../x".into()), Bytes::new()).await.is_err());
        let key = ArtifactKey::Output("web.abc".into());
        store.put(&key, Bytes::from_static(b"{}")).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap().unwrap(), Bytes::from_static(b"{}"));
        assert!(store.get(&ArtifactKey::Output("web.none".into())).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_directory_store_writes_under_its_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = Artifacts::open(dir.path().to_str().unwrap()).unwrap();
        store.put(&ArtifactKey::Output("web.x".into()), Bytes::from_static(b"1")).await.unwrap();
        assert!(dir.path().join("outputs/web.x.ipynb").exists());
    }
}
