//! Directories in the system's temporary directory for the tests of the
//! storage code (journal, data directory, zone writer), each removed with
//! what it holds when dropped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh directory, removed when dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    /// `dnslab-TAG-PID-N`: unique per test process and call, so tests run
    /// side by side (nextest runs each in its own process) never meet.
    pub(crate) fn new(tag: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("dnslab-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
