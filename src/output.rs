//! The only place hardbase writes files, and it writes them atomically.
//!
//! A single file is written beside its destination and renamed over it. A
//! tree is built in a sibling folder and swapped in with renames, so a failed
//! build leaves the previous output intact. Existing folders are only
//! replaced when they carry a hardbase manifest, unless the user forces it.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Files of an output tree: a relative path with `/` separators, and the bytes.
pub type TreeFiles = Vec<(String, Vec<u8>)>;

/// The manifest file name that marks a folder as hardbase output.
pub const MANIFEST: &str = "manifest.json";

#[derive(Debug)]
pub enum OutputError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    NotOurs {
        path: PathBuf,
    },
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::Io { path, error } => write!(f, "cannot write {}: {error}", path.display()),
            OutputError::NotOurs { path } => write!(
                f,
                "{} exists and has no hardbase {MANIFEST}; refusing to overwrite it (use --force to replace it)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for OutputError {}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |error| OutputError::Io {
        path: path.to_path_buf(),
        error,
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    path.with_file_name(format!(".{name}.{suffix}-{}", std::process::id()))
}

/// Writes one file atomically (temporary file beside it, then rename).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let tmp = sibling(path, "tmp");
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io(path))
}

/// Whether `dir` holds hardbase output (a manifest written by hardbase).
pub fn is_ours(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join(MANIFEST))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v.get("generator").and_then(|g| g.as_str()) == Some("hardbase"))
}

/// Replaces the folder `dir` with exactly `files` (relative paths with `/`), atomically.
pub fn write_tree(dir: &Path, files: &[(String, Vec<u8>)], force: bool) -> Result<(), OutputError> {
    let staged = StagedDir::new(dir, force)?;
    for (rel, bytes) in files {
        let path = rel
            .split('/')
            .fold(staged.path().to_path_buf(), |p, c| p.join(c));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, bytes).map_err(io(&path))?;
    }
    staged.commit()
}

/// A folder being written beside its destination: files go into [`StagedDir::path`], and
/// [`StagedDir::commit`] swaps it in with renames. Dropped without a commit, the staging folder
/// is removed and the destination is as it was.
#[derive(Debug)]
pub struct StagedDir {
    dir: PathBuf,
    staging: PathBuf,
    exists: bool,
    committed: bool,
}

impl StagedDir {
    /// Starts replacing `dir`: refuses a non-empty folder that is not hardbase output unless
    /// `force`, and creates an empty staging folder beside it.
    pub fn new(dir: &Path, force: bool) -> Result<StagedDir, OutputError> {
        let exists = dir.exists();
        let empty = exists
            && std::fs::read_dir(dir)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
        if exists && !empty && !force && !is_ours(dir) {
            return Err(OutputError::NotOurs {
                path: dir.to_path_buf(),
            });
        }
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let staging = sibling(dir, "new");
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir(&staging).map_err(io(&staging))?;
        Ok(StagedDir {
            dir: dir.to_path_buf(),
            staging,
            exists,
            committed: false,
        })
    }

    /// The staging folder to write into.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Swaps the staging folder in place of the destination (the old one is removed).
    pub fn commit(mut self) -> Result<(), OutputError> {
        let (dir, staging) = (self.dir.clone(), self.staging.clone());
        let old = sibling(&dir, "old");
        if self.exists {
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(&dir, &old).map_err(io(&dir))?;
        }
        if let Err(e) = std::fs::rename(&staging, &dir) {
            if self.exists {
                let _ = std::fs::rename(&old, &dir);
            }
            return Err(io(&dir)(e));
        }
        self.committed = true;
        if self.exists {
            let _ = std::fs::remove_dir_all(&old);
        }
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}
