//! Building a bundle from a project folder: a deterministic `tar.gz` (sorted paths, zeroed
//! times and owners) of the project's [`files`](crate::files), so the same files give the same
//! digest and a re-push is a no-op.

use std::io::Write;
use std::path::Path;

use crate::check::BundleError;
use crate::files::files;

/// A built bundle.
#[derive(Debug, Clone)]
pub struct Built {
    /// The `tar.gz` archive.
    pub bytes: Vec<u8>,
    /// The files it holds, sorted.
    pub files: Vec<String>,
}

/// Archives the project at `root`.
pub fn build(root: &Path) -> Result<Built, BundleError> {
    let fail = |path: &str, e: &dyn std::fmt::Display| BundleError::Write {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let files = files(root)?;
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    builder.mode(tar::HeaderMode::Deterministic);
    for path in &files {
        let data = std::fs::read(root.join(path)).map_err(|e| fail(path, &e))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        builder.append_data(&mut header, path, data.as_slice()).map_err(|e| fail(path, &e))?;
    }
    let encoder = builder.into_inner().map_err(|e| fail("archive", &e))?;
    let mut bytes = encoder.finish().map_err(|e| fail("archive", &e))?;
    bytes.flush().map_err(|e| fail("archive", &e))?;
    Ok(Built { bytes, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_stable() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("notebooks")).unwrap();
        std::fs::write(dir.path().join("notebooks/a.ipynb"), "{}").unwrap();
        std::fs::write(dir.path().join("local.nbvars"), "TOKEN=x").unwrap();
        let first = build(dir.path()).unwrap();
        assert_eq!(first.files, vec!["notebooks/a.ipynb"]);
        let second = build(dir.path()).unwrap();
        assert_eq!(
            crate::check(&first.bytes, 1 << 20).unwrap().digest,
            crate::check(&second.bytes, 1 << 20).unwrap().digest
        );
    }
}
