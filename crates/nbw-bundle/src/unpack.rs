//! Unpacking a bundle into a directory with the rules of [`crate::check`], enforced on the
//! bytes actually written (a zip entry's declared size can lie).

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use crate::check::{BundleError, MAX_ENTRIES, MAX_EXPANSION, clean_path};

/// Unpacks `bytes` (tar, tar.gz or zip) into `dest`; `limit` is the upload limit the budget
/// derives from. Returns the files written.
pub fn unpack(bytes: &[u8], dest: &Path, limit: u64) -> Result<Vec<String>, BundleError> {
    let mut sink = Sink { dest, budget: limit.saturating_mul(MAX_EXPANSION), written: Vec::new() };
    if bytes.starts_with(&[0x1f, 0x8b]) {
        unpack_tar(flate2::read::GzDecoder::new(bytes), &mut sink)?;
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        unpack_zip(bytes, &mut sink)?;
    } else if bytes.len() > 262 && &bytes[257..262] == b"ustar" {
        unpack_tar(bytes, &mut sink)?;
    } else {
        return Err(BundleError::Format);
    }
    Ok(sink.written)
}

struct Sink<'a> {
    dest: &'a Path,
    budget: u64,
    written: Vec<String>,
}

impl Sink<'_> {
    fn write(&mut self, raw: &str, mut reader: impl Read) -> Result<(), BundleError> {
        let path = clean_path(raw)?;
        if path.is_empty() {
            return Ok(());
        }
        if self.written.len() >= MAX_ENTRIES {
            return Err(BundleError::TooBig(format!("{MAX_ENTRIES} entries")));
        }
        let target = self.dest.join(&path);
        let fail = |e: std::io::Error| BundleError::Write { path: path.clone(), reason: e.to_string() };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        let mut file = File::create(&target).map_err(fail)?;
        let mut buffer = [0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buffer).map_err(|e| BundleError::Damaged(e.to_string()))?;
            if n == 0 {
                break;
            }
            self.budget =
                self.budget.checked_sub(n as u64).ok_or_else(|| BundleError::TooBig("its budget".into()))?;
            file.write_all(&buffer[..n]).map_err(fail)?;
        }
        self.written.push(path);
        Ok(())
    }

    fn dir(&self, raw: &str) -> Result<(), BundleError> {
        let path = clean_path(raw)?;
        std::fs::create_dir_all(self.dest.join(&path))
            .map_err(|e| BundleError::Write { path, reason: e.to_string() })
    }
}

fn unpack_tar(reader: impl Read, sink: &mut Sink) -> Result<(), BundleError> {
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(|e| BundleError::Damaged(e.to_string()))? {
        let entry = entry.map_err(|e| BundleError::Damaged(e.to_string()))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            return Err(BundleError::Link(raw));
        }
        if kind.is_dir() {
            sink.dir(&raw)?;
        } else if kind.is_file() {
            sink.write(&raw, entry)?;
        }
    }
    Ok(())
}

fn unpack_zip(bytes: &[u8], sink: &mut Sink) -> Result<(), BundleError> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| BundleError::Damaged(e.to_string()))?;
    for index in 0..archive.len() {
        let file = archive.by_index(index).map_err(|e| BundleError::Damaged(e.to_string()))?;
        let raw = file.name().map_err(|e| BundleError::Damaged(e.to_string()))?.into_owned();
        if file.is_symlink() {
            return Err(BundleError::Link(raw));
        }
        if file.is_dir() {
            sink.dir(&raw)?;
        } else {
            sink.write(&raw, file)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zip_that_lies_about_its_size_stops_at_the_budget() {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        writer.start_file("big.txt", zip::write::SimpleFileOptions::default()).unwrap();
        writer.write_all(&vec![b'a'; 100_000]).unwrap();
        let bytes = writer.finish().unwrap().into_inner();
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(unpack(&bytes, dir.path(), 1_000), Err(BundleError::TooBig(_))));
        assert_eq!(unpack(&bytes, dir.path(), 1 << 20).unwrap(), vec!["big.txt"]);
    }
}
