//! The data directory (`--data-dir`): where a server keeps what must
//! survive a restart besides the master files it is given: each zone's
//! journal ([`crate::journal`]) and the copies of the zones it is a
//! secondary for.
//!
//! Layout, one directory per server:
//! - `dnslab.lock`: held with `flock` while a server uses the directory,
//!   so that two servers never write the same journals (it holds the
//!   holder's PID, for the error message; the lock, not the file, is
//!   what counts, and it goes away with the process however it ends);
//! - `<zone>.journal`: the zone's journal;
//! - `<zone>.zone`: a secondary's copy of the zone, a master file;
//! - `*.tmp`: a file being replaced (see [`write_atomically`]); one left
//!   by a crash is removed when the directory is next opened.
//!
//! `<zone>` is the zone's name lowercased without the final dot (`@` for
//! the root zone), bytes other than letters, digits, `-` and `_` inside a
//! label written `%XX`, so that no zone name can make a path leave the
//! directory or collide with another zone's ([`zone_file_stem`]).
//!
//! Files are replaced as NSD and Knot replace theirs: written to a
//! temporary file in the same directory, flushed to disk, renamed over
//! the old one, and the directory flushed, so that after a crash the file
//! is either the old one or the new one, whole.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use hickory_proto::rr::Name;
use sha1::{Digest, Sha1};

/// The lock file's name.
const LOCK_FILE: &str = "dnslab.lock";

/// The suffix of a file being written by [`write_atomically`].
const TEMP_SUFFIX: &str = ".tmp";

/// A data directory this process has locked for its own use.
#[derive(Debug)]
pub(crate) struct DataDir {
    path: PathBuf,
    /// Holds the `flock` for as long as the directory is in use.
    _lock: File,
}

/// Why a data directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DataDirError {
    #[error("cannot create the data directory {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot lock the data directory {path}: {source}")]
    Lock { path: PathBuf, source: io::Error },
    #[error(
        "the data directory {path} is in use by another dnslab process{holder}: \
         give each server its own --data-dir"
    )]
    InUse { path: PathBuf, holder: String },
}

impl DataDir {
    /// Creates the directory if needed, locks it, and removes the
    /// temporary files a crash may have left.
    pub(crate) fn open(path: &Path) -> Result<DataDir, DataDirError> {
        std::fs::create_dir_all(path).map_err(|source| DataDirError::Create {
            path: path.to_path_buf(),
            source,
        })?;
        let lock_error = |source| DataDirError::Lock {
            path: path.to_path_buf(),
            source,
        };
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path.join(LOCK_FILE))
            .map_err(lock_error)?;
        // SAFETY: flock on a descriptor this function owns; it only
        // changes the lock state of the open file.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::WouldBlock {
                return Err(lock_error(error));
            }
            let mut holder = String::new();
            let _ = lock.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(DataDirError::InUse {
                path: path.to_path_buf(),
                holder: if holder.is_empty() {
                    String::new()
                } else {
                    format!(" (pid {holder})")
                },
            });
        }
        lock.set_len(0).map_err(lock_error)?;
        lock.rewind().map_err(lock_error)?;
        writeln!(lock, "{}", std::process::id()).map_err(lock_error)?;
        let dir = DataDir {
            path: path.to_path_buf(),
            _lock: lock,
        };
        dir.remove_leftovers();
        Ok(dir)
    }

    /// Where the journal of `zone` lives.
    pub(crate) fn journal_path(&self, zone: &Name) -> PathBuf {
        self.path.join(format!("{}.journal", zone_file_stem(zone)))
    }

    /// Where a secondary keeps its copy of `zone`.
    pub(crate) fn zone_copy_path(&self, zone: &Name) -> PathBuf {
        self.path.join(format!("{}.zone", zone_file_stem(zone)))
    }

    /// Removes `*.tmp` files: only a crash between writing and renaming
    /// leaves one, and with the lock held nobody else is writing them.
    fn remove_leftovers(&self) {
        let Ok(entries) = std::fs::read_dir(&self.path) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.to_string_lossy().ends_with(TEMP_SUFFIX) && path.is_file() {
                match std::fs::remove_file(&path) {
                    Ok(()) => tracing::warn!(
                        path = %path.display(),
                        "removed a temporary file left by an interrupted write"
                    ),
                    Err(error) => tracing::warn!(
                        path = %path.display(), %error,
                        "cannot remove a temporary file left by an interrupted write"
                    ),
                }
            }
        }
    }
}

/// The file name of `zone` in a data directory, without extension (see
/// the module doc); names too long for a file name (a 253-byte name can
/// triple when escaped) are cut and end with a hash of the whole.
pub(crate) fn zone_file_stem(zone: &Name) -> String {
    if zone.is_root() {
        return "@".into();
    }
    let mut stem = String::new();
    for (i, label) in zone.iter().enumerate() {
        if i > 0 {
            stem.push('.');
        }
        for &byte in label {
            let byte = byte.to_ascii_lowercase();
            if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
                stem.push(char::from(byte));
            } else {
                stem.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    // Room for ".journal.tmp" within the 255 bytes of a file name.
    const MAX: usize = 200;
    if stem.len() > MAX {
        let digest = Sha1::digest(stem.as_bytes());
        let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        // The stem is ASCII, so any byte offset is a char boundary.
        stem.truncate(MAX - 1 - hash.len());
        stem.push('~');
        stem.push_str(&hash);
    }
    stem
}

/// The temporary file [`write_atomically`] writes before renaming it to
/// `path`: beside it, so the rename stays within one file system.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(TEMP_SUFFIX);
    PathBuf::from(name)
}

/// Replaces the file at `path` with `bytes`, so that after a crash it is
/// either the old file or the new one, whole.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomically_with(path, |out| out.write_all(bytes))
}

/// [`write_atomically`] with the content written by `write`: the
/// temporary file is written and flushed to disk ([`write_temp`]), then
/// renamed over `path` ([`install_temp`]). On error `path` is untouched.
pub(crate) fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let temp = write_temp(path, write)?;
    install_temp(&temp, path)
}

/// The first half of [`write_atomically_with`]: writes the temporary file
/// of `path` ([`temp_path`]) and flushes it to disk (`fsync`); on error it
/// is removed. A crash after this and before [`install_temp`] leaves the
/// old `path` whole, and a temporary file [`DataDir::open`] removes.
pub(crate) fn write_temp(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<PathBuf> {
    let temp = temp_path(path);
    let result = (|| {
        let mut out = BufWriter::new(File::create(&temp)?);
        write(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(temp),
        Err(error) => {
            let _ = std::fs::remove_file(&temp);
            Err(error)
        }
    }
}

/// The second half of [`write_atomically_with`]: renames `temp` over
/// `path` and flushes the directory, so the rename itself is durable.
pub(crate) fn install_temp(temp: &Path, path: &Path) -> io::Result<()> {
    std::fs::rename(temp, path)?;
    sync_parent(path)
}

/// Flushes the directory holding `path`, which makes a rename or the
/// creation of `path` durable (POSIX leaves that to the directory's own
/// `fsync`).
pub(crate) fn sync_parent(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temp_dir::TempDir;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    #[test]
    fn zone_names_become_safe_distinct_file_names() {
        assert_eq!(zone_file_stem(&Name::root()), "@");
        assert_eq!(zone_file_stem(&name("Example.COM.")), "example.com");
        assert_eq!(
            zone_file_stem(&name("_tcp.a-b.example.")),
            "_tcp.a-b.example"
        );
        // A label that holds a dot or a slash cannot reach another path
        // or another zone's file.
        let dotted = dnslab_wire::absolute_name("a\\.b.example").unwrap();
        assert_eq!(zone_file_stem(&dotted), "a%2Eb.example");
        let slash = dnslab_wire::absolute_name("\\/etc\\/passwd").unwrap();
        assert_eq!(zone_file_stem(&slash), "%2Fetc%2Fpasswd");
        let at = dnslab_wire::absolute_name("\\@").unwrap();
        assert_eq!(zone_file_stem(&at), "%40", "not the root zone's @");
        // The longest names are cut, keeping them distinct by a hash.
        let long = |byte: u8| {
            let mut name = Name::root();
            for len in [63, 63, 63, 61] {
                let label = hickory_proto::rr::Label::from_raw_bytes(&vec![byte; len]).unwrap();
                name = name.append_label(label).unwrap();
            }
            name
        };
        let (a, b) = (zone_file_stem(&long(b'!')), zone_file_stem(&long(b'#')));
        assert!(a.len() <= 200 && b.len() <= 200, "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn two_servers_cannot_share_a_data_directory() {
        let temp = TempDir::new("data-dir-lock");
        let path = temp.path().join("data");
        let first = DataDir::open(&path).unwrap();
        let err = DataDir::open(&path).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, DataDirError::InUse { .. }), "{text}");
        assert!(
            text.contains(&format!("(pid {})", std::process::id())),
            "{text}"
        );
        assert!(
            text.contains("give each server its own --data-dir"),
            "{text}"
        );
        drop(first);
        let again = DataDir::open(&path).unwrap();
        assert_eq!(
            again.journal_path(&name("example.com.")),
            path.join("example.com.journal")
        );
        assert_eq!(again.zone_copy_path(&Name::root()), path.join("@.zone"));
    }

    #[test]
    fn files_are_replaced_whole_and_leftovers_removed() {
        let temp = TempDir::new("data-dir-atomic");
        let path = temp.path().join("data");
        let dir = DataDir::open(&path).unwrap();
        let file = dir.zone_copy_path(&name("example."));
        write_atomically(&file, b"old").unwrap();
        write_atomically(&file, b"new").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        assert!(!temp_path(&file).exists());
        // A write that fails half way leaves the old file and no temporary.
        let failed = write_atomically_with(&file, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        assert!(!temp_path(&file).exists());
        // A crash between writing and renaming leaves a temporary file,
        // removed the next time the directory is opened.
        std::fs::write(temp_path(&file), b"torn").unwrap();
        drop(dir);
        let _dir = DataDir::open(&path).unwrap();
        assert!(!temp_path(&file).exists());
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
    }
}
