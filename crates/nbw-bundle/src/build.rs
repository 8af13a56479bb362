//! Building a bundle from a project folder: a deterministic `tar.gz` (sorted paths, zeroed
//! times and owners), so the same files give the same digest and a re-push is a no-op.
//! `.gitignore` and `.nbwignore` are honoured (even outside a git repository); `.git/` and the
//! local secrets file `local.nbvars` are never included.

use std::io::Write;
use std::path::Path;

use crate::check::BundleError;

/// Files that never leave the laptop, whatever the ignore files say.
const ALWAYS_LEFT_OUT: &[&str] = &["local.nbvars"];

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
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .add_custom_ignore_filename(".nbwignore")
        .filter_entry(|entry| entry.file_name() != ".git")
        .build();
    for entry in walker {
        let entry = entry.map_err(|e| fail(&root.display().to_string(), &e))?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let relative =
            entry.path().strip_prefix(root).map_err(|e| fail(&entry.path().display().to_string(), &e))?;
        let relative = relative.to_string_lossy().replace('\\', "/");
        if ALWAYS_LEFT_OUT.contains(&relative.as_str()) {
            continue;
        }
        files.push(relative);
    }
    files.sort();
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
    fn ignore_files_and_secrets_stay_out_and_digests_are_stable() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("notebooks")).unwrap();
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("notebooks/a.ipynb"), "{}").unwrap();
        std::fs::write(root.join("data/big.csv"), "1,2").unwrap();
        std::fs::write(root.join(".git/HEAD"), "ref").unwrap();
        std::fs::write(root.join("local.nbvars"), "TOKEN=x").unwrap();
        std::fs::write(root.join(".nbwignore"), "data/\n").unwrap();
        std::fs::write(root.join(".gitignore"), "*.tmp\n").unwrap();
        std::fs::write(root.join("scratch.tmp"), "x").unwrap();
        let first = build(root).unwrap();
        assert_eq!(first.files, vec![".gitignore", ".nbwignore", "notebooks/a.ipynb"]);
        let second = build(root).unwrap();
        assert_eq!(
            crate::check(&first.bytes, 1 << 20).unwrap().digest,
            crate::check(&second.bytes, 1 << 20).unwrap().digest
        );
    }
}
