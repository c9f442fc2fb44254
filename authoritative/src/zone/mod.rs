//! Zones: reading master files ([`reader`]), the `named-checkzone` checks
//! ([`check`]) and the in-memory store the lookup reads ([`store`]).

pub mod check;
pub mod reader;
pub mod store;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hickory_proto::rr::{Name, Record};

pub use store::{Catalog, CatalogError, Node, RRset, Zone, ZoneSummary};

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

/// Why a zone file could not be served.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read or parsed.
    Read(reader::ReadError),
    /// The file was read, but the zone breaks the rules of [`check`] or of
    /// the store; every problem is listed.
    Invalid(Vec<check::Problem>),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Read(err) => write!(f, "{err}"),
            LoadError::Invalid(problems) => {
                for (i, problem) in problems.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{problem}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// Reads the master file at `path` and builds its zone; `origin` is the
/// zone name when the caller knows it (`--zone NAME=FILE`).
pub fn load(path: &Path, origin: Option<&Name>) -> Result<Zone, LoadError> {
    let file = reader::read_file(path, origin).map_err(LoadError::Read)?;
    for warning in &file.warnings {
        tracing::warn!(%warning, "zone file accepted with a warning");
    }
    Zone::from_records(file.origin, file.records).map_err(LoadError::Invalid)
}
