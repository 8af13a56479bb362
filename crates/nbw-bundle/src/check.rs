//! Checking an uploaded project bundle before anything is stored: its format (tar, tar.gz or
//! zip, by magic bytes), that every entry stays inside the project (no absolute paths, no
//! `..`, no links), that it does not unpack to more than a bound (no zip bombs), and which
//! notebooks it holds.

use std::io::Read;

use sha2::{Digest, Sha256};

/// Most entries a bundle may hold.
pub(crate) const MAX_ENTRIES: usize = 20_000;
/// A bundle may unpack to at most this many times the upload limit.
pub(crate) const MAX_EXPANSION: u64 = 10;

/// A bundle that cannot be accepted; the message names the entry and the fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    /// Not a tar, tar.gz or zip archive.
    #[error("the upload is not a tar, tar.gz or zip archive")]
    Format,
    /// The archive is damaged.
    #[error("the archive is damaged: {0}")]
    Damaged(String),
    /// An entry would land outside the project.
    #[error(
        "archive entry {0:?} points outside the project (absolute path or `..`); rebuild the bundle from the project folder"
    )]
    Escape(String),
    /// Writing the files failed.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Links are refused: they could point anywhere once unpacked.
    #[error("archive entry {0:?} is a link; bundles may hold only files and directories")]
    Link(String),
    /// Too many entries or too many bytes once unpacked.
    #[error("the archive unpacks to more than {0}; leave data out of the bundle (.nbwignore)")]
    TooBig(String),
}

/// What an accepted bundle holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// `tar`, `tar.gz` or `zip`.
    pub format: &'static str,
    /// `sha256:<hex>` of the upload.
    pub digest: String,
    /// Notebook paths, sorted.
    pub notebooks: Vec<String>,
}

/// Checks an archive; `limit` is the upload limit in bytes.
pub fn check(bytes: &[u8], limit: u64) -> Result<Checked, BundleError> {
    let digest = format!("sha256:{:x}", Sha256::digest(bytes));
    let budget = limit.saturating_mul(MAX_EXPANSION);
    let (format, paths) = if bytes.starts_with(&[0x1f, 0x8b]) {
        ("tar.gz", tar_entries(flate2::read::GzDecoder::new(bytes), budget)?)
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        ("zip", zip_entries(bytes, budget)?)
    } else if bytes.len() > 262 && &bytes[257..262] == b"ustar" {
        ("tar", tar_entries(bytes, budget)?)
    } else {
        return Err(BundleError::Format);
    };
    let mut notebooks: Vec<String> = paths.into_iter().filter(|p| p.ends_with(".ipynb")).collect();
    notebooks.sort();
    Ok(Checked { format, digest, notebooks })
}

/// Normalises an entry path (`./a/b` -> `a/b`) and refuses escapes.
pub(crate) fn clean_path(raw: &str) -> Result<String, BundleError> {
    if raw.starts_with('/') || raw.contains('\\') {
        return Err(BundleError::Escape(raw.to_owned()));
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(BundleError::Escape(raw.to_owned())),
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

fn tar_entries(reader: impl Read, budget: u64) -> Result<Vec<String>, BundleError> {
    let mut archive = tar::Archive::new(reader);
    let mut paths = Vec::new();
    let mut total = 0u64;
    let entries = archive.entries().map_err(|e| BundleError::Damaged(e.to_string()))?;
    for entry in entries {
        let entry = entry.map_err(|e| BundleError::Damaged(e.to_string()))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = clean_path(&raw)?;
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            return Err(BundleError::Link(raw));
        }
        total = total.saturating_add(entry.size());
        if total > budget {
            return Err(BundleError::TooBig(format!("{budget} bytes")));
        }
        if kind.is_file() {
            paths.push(path);
        }
        if paths.len() > MAX_ENTRIES {
            return Err(BundleError::TooBig(format!("{MAX_ENTRIES} entries")));
        }
    }
    Ok(paths)
}

fn zip_entries(bytes: &[u8], budget: u64) -> Result<Vec<String>, BundleError> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| BundleError::Damaged(e.to_string()))?;
    if archive.len() > MAX_ENTRIES {
        return Err(BundleError::TooBig(format!("{MAX_ENTRIES} entries")));
    }
    let mut paths = Vec::new();
    let mut total = 0u64;
    for index in 0..archive.len() {
        let file = archive.by_index(index).map_err(|e| BundleError::Damaged(e.to_string()))?;
        let raw = file.name().map_err(|e| BundleError::Damaged(e.to_string()))?.into_owned();
        let path = clean_path(&raw)?;
        if file.is_symlink() {
            return Err(BundleError::Link(raw));
        }
        // The declared size can lie; the agent's unpacking stops at the same budget.
        total = total.saturating_add(file.size());
        if total > budget {
            return Err(BundleError::TooBig(format!("{budget} bytes")));
        }
        if file.is_file() {
            paths.push(path);
        }
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(paths: &[&str]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for path in paths {
            let mut header = tar::Header::new_gnu();
            header.set_size(2);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, &b"{}"[..]).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn a_good_tar_lists_its_notebooks() {
        let checked = check(&tar_with(&["nbw.yaml", "notebooks/b.ipynb", "a.ipynb"]), 1 << 20).unwrap();
        assert_eq!(checked.format, "tar");
        assert_eq!(checked.notebooks, vec!["a.ipynb", "notebooks/b.ipynb"]);
        assert!(checked.digest.starts_with("sha256:"));
    }

    #[test]
    fn escapes_and_garbage_are_refused() {
        assert_eq!(clean_path("../etc/passwd"), Err(BundleError::Escape("../etc/passwd".into())));
        assert_eq!(clean_path("/abs"), Err(BundleError::Escape("/abs".into())));
        assert_eq!(clean_path("./a//b"), Ok("a/b".into()));
        assert_eq!(check(b"hello", 100), Err(BundleError::Format));
    }

    #[test]
    fn zip_with_dotdot_is_refused() {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        writer.start_file("../evil.ipynb", zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut writer, b"{}").unwrap();
        let bytes = writer.finish().unwrap().into_inner();
        assert!(matches!(check(&bytes, 1 << 20), Err(BundleError::Escape(_))));
    }
}
