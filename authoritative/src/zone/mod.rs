//! Zones: reading master files ([`reader`]), the `named-checkzone` checks
//! ([`check`]) and the in-memory store the lookup reads ([`store`]).

pub mod check;
pub mod reader;
pub mod store;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use hickory_proto::rr::Record;

/// Where a record came from, so every problem can be reported as
/// `file:line` like `named-checkzone` does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: Arc<PathBuf>,
    pub line: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One record as read from a master file, with its origin in the file.
#[derive(Clone, Debug)]
pub struct SourcedRecord {
    pub record: Record,
    pub location: Location,
}
