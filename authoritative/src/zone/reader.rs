//! Reading RFC 1035 master files as BIND does. (Interface stub; being written.)

use std::path::Path;

use hickory_proto::rr::Name;

use super::SourcedRecord;

/// A master file as read: its origin and every record with its location.
#[derive(Debug)]
pub struct MasterFile {
    pub origin: Name,
    pub records: Vec<SourcedRecord>,
}

/// A master file that could not be read; `Display` starts with `file:line`.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Unimplemented(String),
}

/// Reads the file at `path`; `origin` is the zone name when the caller knows
/// it (`--zone NAME=FILE`), else it comes from the file.
pub fn read_file(path: &Path, origin: Option<&Name>) -> Result<MasterFile, ReadError> {
    let _ = origin;
    Err(ReadError::Unimplemented(format!("{}: reader not written yet", path.display())))
}
