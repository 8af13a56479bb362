//! The build context: the files a bundle of the project would carry (`.gitignore` and
//! `.nbwignore` honoured, `local.nbvars` never), plus the Dockerfile under a name of its own,
//! as a `tar.gz`. Headers are deterministic (no times, no owners) so that an unchanged file
//! keeps the engine's `COPY` cache.

use std::io::Write;
use std::path::Path;

use crate::error::RuntimeError;

/// Where the Dockerfile goes in the context; a project file of that name is left out.
pub(crate) const DOCKERFILE_PATH: &str = ".nbw/Dockerfile";

/// The context of a build of the project at `project_dir` with `dockerfile`.
pub(crate) fn archive(project_dir: &Path, dockerfile: &str) -> Result<Vec<u8>, RuntimeError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| RuntimeError::Io { path, source }
    };
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(encoder);
    for file in nbw_bundle::files(project_dir)? {
        if file == DOCKERFILE_PATH {
            continue;
        }
        let path = project_dir.join(&file);
        let data = std::fs::read(&path).map_err(io(&path))?;
        let executable = executable(&path.metadata().map_err(io(&path))?);
        append(&mut tar, &file, &data, if executable { 0o755 } else { 0o644 }).map_err(io(&path))?;
    }
    append(&mut tar, DOCKERFILE_PATH, dockerfile.as_bytes(), 0o644)
        .map_err(io(Path::new(DOCKERFILE_PATH)))?;
    tar.into_inner().and_then(flate2::write::GzEncoder::finish).map_err(io(Path::new("the build context")))
}

fn append<W: Write>(tar: &mut tar::Builder<W>, path: &str, data: &[u8], mode: u32) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(mode);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    tar.append_data(&mut header, path, data)
}

/// Scripts a Dockerfile copies and runs keep their executable bit.
#[cfg(unix)]
fn executable(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn executable(_: &std::fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn the_context_holds_the_bundles_files_and_the_dockerfile() {
        let dir = nbw_testkit::tempdir();
        std::fs::create_dir_all(dir.path().join(".nbw")).unwrap();
        std::fs::write(dir.path().join(".nbw/Dockerfile"), "FROM project-owned").unwrap();
        std::fs::write(dir.path().join("requirements.txt"), "pyyaml\n").unwrap();
        std::fs::write(dir.path().join("local.nbvars"), "TOKEN=x\n").unwrap();
        std::fs::write(dir.path().join(".nbwignore"), "data/\n").unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::write(dir.path().join("data/big.csv"), "1,2\n").unwrap();
        let bytes = archive(dir.path(), "FROM nbw-rendered\n").unwrap();
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let mut entries: Vec<(String, String)> = tar
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let mut text = String::new();
                entry.read_to_string(&mut text).unwrap();
                (entry.path().unwrap().display().to_string(), text)
            })
            .collect();
        entries.sort();
        assert_eq!(
            entries,
            [
                (".nbw/Dockerfile".to_owned(), "FROM nbw-rendered\n".to_owned()),
                (".nbwignore".to_owned(), "data/\n".to_owned()),
                ("requirements.txt".to_owned(), "pyyaml\n".to_owned()),
            ]
        );
    }
}
