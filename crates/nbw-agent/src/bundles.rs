//! Bundles, fetched once per digest and kept in the agent's cache directory.

use std::path::{Path, PathBuf};

use anyhow::Context;
use nbw_client::AgentClient;

/// The bundle cache.
#[derive(Debug, Clone)]
pub struct BundleCache {
    dir: PathBuf,
}

impl BundleCache {
    /// A cache in `dir`.
    pub fn new(dir: PathBuf) -> BundleCache {
        BundleCache { dir }
    }

    /// The archive with `digest`, downloaded from `url` on first use.
    pub async fn archive(&self, client: &AgentClient, digest: &str, url: &str) -> anyhow::Result<Vec<u8>> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        let hex = hex.with_context(|| format!("bundle digest {digest:?} is not sha256:<hex>"))?;
        let path = self.dir.join(format!("{hex}.archive"));
        if let Ok(bytes) = tokio::fs::read(&path).await {
            return Ok(bytes);
        }
        let bytes = client.bundle(url).await.with_context(|| format!("downloading bundle {digest}"))?;
        let actual =
            nbw_bundle::check(&bytes, u64::MAX / 16).context("checking the downloaded bundle")?.digest;
        anyhow::ensure!(actual == digest, "downloaded bundle has digest {actual}, expected {digest}");
        write_atomically(&self.dir, &path, &bytes).await?;
        Ok(bytes.to_vec())
    }
}

async fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(dir).await.with_context(|| format!("creating {}", dir.display()))?;
    // A name of its own per download: two slots may fetch the same bundle at once, and the
    // last rename simply replaces the first (same content, same digest).
    let tmp = path.with_extension(format!("tmp-{}", nbw_core::ids::random_id()));
    tokio::fs::write(&tmp, bytes).await.with_context(|| format!("writing {}", tmp.display()))?;
    tokio::fs::rename(&tmp, path).await.with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}
