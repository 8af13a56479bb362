//! Project bundles: the archive of a project folder that `nbw push` uploads, the server checks
//! and stores by digest, and agents unpack into each execution's working directory.
//!
//! - [`files`]: which files of a project folder travel with it (`.gitignore` and `.nbwignore`
//!   honoured, `.git/` and `local.nbvars` never), for bundles and runtime image builds alike;
//! - [`build`]: a `tar.gz` of those files;
//! - [`check`]: what the server accepts (format by magic bytes, no entry outside the project,
//!   no links, bounded expansion) and which notebooks a bundle holds;
//! - [`unpack`]: the same rules, applied while writing the files.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("a.ipynb"), "{}").unwrap();
//! let archive = nbw_bundle::build(dir.path()).unwrap();
//! let checked = nbw_bundle::check(&archive.bytes, 1 << 20).unwrap();
//! assert_eq!(checked.notebooks, vec!["a.ipynb"]);
//! let out = tempfile::tempdir().unwrap();
//! nbw_bundle::unpack(&archive.bytes, out.path(), 1 << 20).unwrap();
//! assert!(out.path().join("a.ipynb").exists());
//! ```
mod build;
mod check;
mod files;
mod unpack;

pub use build::{Built, build};
pub use check::{BundleError, Checked, check};
pub use files::files;
pub use unpack::unpack;
