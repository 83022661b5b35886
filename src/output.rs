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
    let result = write_synced(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io(path))
}

/// Creates `path` with `bytes` and returns once the kernel has put them on disk.
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Returns once the kernel has put the folder `dir`'s entries on disk (the names of files
/// created in it, renamed into or out of it). On Unix; elsewhere a folder cannot be opened to
/// be synced, and the file system's own ordering is all there is.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// A file made durable while it grows: each time another `step` bytes have been written, a
/// background thread has the kernel write them to disk (`fdatasync` of a second handle to the
/// same file), so [`SyncingFile::finish`] has only the last part left to wait for. The thread
/// waits on the disk, not the CPU; the writer never waits for it.
pub struct SyncingFile {
    file: std::fs::File,
    written: u64,
    next: u64,
    step: u64,
    /// Background syncs asked for so far.
    requests: u64,
    syncer: Option<Syncer>,
}

struct Syncer {
    wake: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl SyncingFile {
    /// `file` synced every `step` bytes; without a background thread (it cannot be made, or the
    /// file cannot be opened a second time) it is synced at the end only.
    pub fn new(file: std::fs::File, step: u64) -> SyncingFile {
        let step = step.max(1);
        let syncer = file.try_clone().ok().and_then(|clone| {
            let (wake, woken) = std::sync::mpsc::channel::<()>();
            std::thread::Builder::new()
                .name("sync".into())
                .spawn(move || {
                    // One sync covers every request made before it started.
                    while woken.recv().is_ok() {
                        while woken.try_recv().is_ok() {}
                        clone.sync_data()?;
                    }
                    Ok(())
                })
                .ok()
                .map(|thread| Syncer { wake, thread })
        });
        SyncingFile {
            file,
            written: 0,
            next: step,
            step,
            requests: 0,
            syncer,
        }
    }

    /// Waits for the background syncs (the first error of one is returned), then syncs the
    /// file's data and metadata.
    pub fn finish(mut self) -> std::io::Result<()> {
        if let Some(Syncer { wake, thread }) = self.syncer.take() {
            drop(wake);
            thread
                .join()
                .map_err(|_| std::io::Error::other("the sync thread stopped"))??;
        }
        self.file.sync_all()
    }
}

impl Write for SyncingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written >= self.next {
            self.next = self.written + self.step;
            if let Some(s) = &self.syncer {
                // A thread that stopped (after an error) reports it at `finish`.
                let _ = s.wake.send(());
                self.requests += 1;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
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
    write_files(staged.path(), files)?;
    staged.commit()
}

/// The lowercase hex SHA-256 of `bytes`, as manifests list artefacts.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `files` (relative paths with `/`) into the empty folder `root` (a staging folder).
pub fn write_files(root: &Path, files: &[(String, Vec<u8>)]) -> Result<(), OutputError> {
    let mut writer = FileWriter::new(root);
    for (rel, bytes) in files {
        writer.write(rel, bytes)?;
    }
    Ok(())
}

/// Writes files one at a time into the empty folder `root` (a staging folder), each folder
/// created once.
#[derive(Debug)]
pub struct FileWriter<'a> {
    root: &'a Path,
    /// The folders made so far (relative).
    made: Vec<String>,
}

impl<'a> FileWriter<'a> {
    pub fn new(root: &'a Path) -> FileWriter<'a> {
        FileWriter {
            root,
            made: Vec::new(),
        }
    }

    /// Writes `bytes` to `rel` (a relative path with `/` separators) under the root.
    pub fn write(&mut self, rel: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let path = rel
            .split('/')
            .fold(self.root.to_path_buf(), |p, c| p.join(c));
        if let Some((folder, _)) = rel.rsplit_once('/') {
            if !self.made.iter().any(|m| m == folder) {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(io(parent))?;
                }
                self.made.push(folder.to_string());
            }
        }
        std::fs::write(&path, bytes).map_err(io(&path))
    }
}

/// Folders replaced together: each gets a staging folder beside it ([`StagedTrees::add`]) that
/// its tree is written into ([`write_files`]) as soon as the tree is made, so that a tree need
/// not stay in memory until the others are made; none replaces its destination before
/// [`StagedTrees::commit`]. Dropped before, every staging folder is removed, and so are the
/// folders created to hold them: nothing was written.
#[derive(Debug, Default)]
pub struct StagedTrees {
    staged: Vec<StagedDir>,
    /// Folders that did not exist before, created to hold the staging folders (innermost last).
    created: Vec<PathBuf>,
    committed: bool,
}

impl StagedTrees {
    pub fn new() -> StagedTrees {
        StagedTrees::default()
    }

    /// Starts replacing the folder `dir` (see [`StagedDir::new`] for `force`): the empty staging
    /// folder to write its tree into.
    pub fn add(&mut self, dir: &Path, force: bool) -> Result<PathBuf, OutputError> {
        let mut missing = Vec::new();
        let mut parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
        while let Some(p) = parent.filter(|p| !p.exists()) {
            missing.push(p.to_path_buf());
            parent = p.parent().filter(|p| !p.as_os_str().is_empty());
        }
        let staged = StagedDir::new(dir, force);
        // Recorded even on an error: create_dir_all may have made some of them.
        self.created.extend(missing.into_iter().rev());
        let staged = staged?;
        let path = staged.path().to_path_buf();
        self.staged.push(staged);
        Ok(path)
    }

    /// Swaps every staged folder in, in the order they were added; `committed` is told the
    /// index of each one swapped in. On an error the folders already swapped in stay, the
    /// others do not.
    pub fn commit(mut self, mut committed: impl FnMut(usize)) -> Result<(), OutputError> {
        self.committed = true;
        for (i, staged) in std::mem::take(&mut self.staged).into_iter().enumerate() {
            staged.commit()?;
            committed(i);
        }
        Ok(())
    }
}

impl Drop for StagedTrees {
    fn drop(&mut self) {
        self.staged.clear();
        if !self.committed {
            for dir in self.created.iter().rev() {
                // Only an empty folder is removed: one another process wrote into stays.
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hardbase-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn synced_writes_keep_every_byte_and_a_folder_sync_needs_the_folder() {
        let dir = scratch("synced");
        let path = dir.join("manifest.json");
        write_synced(&path, b"{}\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{}\n");
        // A second write replaces the file's bytes, not appends to them.
        write_synced(&path, b"[]").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"[]");
        sync_dir(&dir).unwrap();
        // The folder is opened to be synced: on Unix a missing one is an error, not a no-op.
        assert_eq!(sync_dir(&dir.join("missing")).is_err(), cfg!(unix));
        assert!(write_synced(&dir.join("missing").join("x"), b"x").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_syncing_file_asks_for_a_sync_each_step_and_keeps_every_byte() {
        let dir = scratch("syncing");
        let path = dir.join("records.jsonl");
        let mut f = SyncingFile::new(std::fs::File::create(&path).unwrap(), 1000);
        let line = [b'x'; 300];
        for _ in 0..10 {
            f.write_all(&line).unwrap();
        }
        // 3,000 bytes in writes of 300: a sync asked for at 1,200 and at 2,400 (each step
        // counted from the write that crossed the last one); the rest is left to `finish`.
        assert_eq!(f.requests, 2);
        f.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), vec![b'x'; 3000]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tree(text: &str) -> TreeFiles {
        vec![
            (
                "manifest.json".into(),
                br#"{"generator":"hardbase"}"#.to_vec(),
            ),
            ("a/b/c.txt".into(), text.as_bytes().to_vec()),
            ("a/d.txt".into(), text.as_bytes().to_vec()),
        ]
    }

    #[test]
    fn staged_trees_appear_together_on_commit() {
        let root = scratch("commit");
        let out = root.join("x/y/out");
        let mut staged = StagedTrees::new();
        let one = staged.add(&out.join("one"), false).unwrap();
        let two = staged.add(&out.join("two"), false).unwrap();
        write_files(&one, &tree("1")).unwrap();
        write_files(&two, &tree("2")).unwrap();
        assert!(!out.join("one").exists() && !out.join("two").exists());
        let mut committed = Vec::new();
        staged.commit(|i| committed.push(i)).unwrap();
        assert_eq!(committed, [0, 1]);
        assert_eq!(std::fs::read(out.join("two/a/b/c.txt")).unwrap(), b"2");
        let mut names: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["one", "two"]);
        // A second build replaces them (they carry a manifest).
        let mut staged = StagedTrees::new();
        let one = staged.add(&out.join("one"), false).unwrap();
        write_files(&one, &tree("3")).unwrap();
        staged.commit(|_| {}).unwrap();
        assert_eq!(std::fs::read(out.join("one/a/d.txt")).unwrap(), b"3");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn staged_trees_dropped_leave_nothing() {
        let root = scratch("drop");
        let out = root.join("x/y/out");
        let mut staged = StagedTrees::new();
        let one = staged.add(&out.join("one"), false).unwrap();
        write_files(&one, &tree("1")).unwrap();
        let _two = staged.add(&out.join("two"), false).unwrap();
        drop(staged);
        // The folders made to hold the staging folders are gone too.
        assert!(!root.join("x").exists());
        // A folder that is not hardbase output stops the build before anything is written.
        std::fs::create_dir_all(out.join("two")).unwrap();
        std::fs::write(out.join("two/mine.txt"), b"mine").unwrap();
        let mut staged = StagedTrees::new();
        staged.add(&out.join("one"), false).unwrap();
        assert!(matches!(
            staged.add(&out.join("two"), false),
            Err(OutputError::NotOurs { .. })
        ));
        drop(staged);
        let names: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
        assert_eq!(names.len(), 1);
        assert_eq!(std::fs::read(out.join("two/mine.txt")).unwrap(), b"mine");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
