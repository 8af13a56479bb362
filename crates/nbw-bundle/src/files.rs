//! Which files of a project folder travel with it: everything but what `.gitignore` and
//! `.nbwignore` leave out (honoured even outside a git repository), `.git/`, and the local
//! secrets file `local.nbvars`. Bundles carry these files, and so do runtime image builds.

use std::path::Path;

use crate::check::BundleError;

/// Files that never leave the laptop, whatever the ignore files say.
const ALWAYS_LEFT_OUT: &[&str] = &["local.nbvars"];

/// The project's files under `root`, as sorted `/`-separated paths relative to it.
pub fn files(root: &Path) -> Result<Vec<String>, BundleError> {
    let fail = |path: &Path, e: &dyn std::fmt::Display| BundleError::Write {
        path: path.display().to_string(),
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
        let entry = entry.map_err(|e| fail(root, &e))?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let relative = entry.path().strip_prefix(root).map_err(|e| fail(entry.path(), &e))?;
        let relative = relative.to_string_lossy().replace('\\', "/");
        if !ALWAYS_LEFT_OUT.contains(&relative.as_str()) {
            files.push(relative);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_files_git_and_secrets_stay_out() {
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
        assert_eq!(files(root).unwrap(), vec![".gitignore", ".nbwignore", "notebooks/a.ipynb"]);
    }
}
