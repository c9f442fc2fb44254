//! Files a test reads or writes: paths in the repository (zone files,
//! topologies, fixtures) and scratch directories removed when the test
//! ends, however it ends.

use std::fs;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The path of a file in the repository, for zone files and topologies.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A fresh directory under the system temp dir, removed on drop. Its name
/// carries the test process's PID and a counter, so tests running in
/// parallel (and earlier runs' leftovers) never share one.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// `what` names the directory's use, to find it while a test runs.
    pub fn new(what: &str) -> ScratchDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("dnslab-{what}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch dir");
        ScratchDir(dir)
    }
}

impl Deref for ScratchDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
