//! Writing a zone back to its master file (Knot's `zone-flush` and
//! `zonefile-sync`, BIND's `rndc sync`): the version served now, written
//! beside the file and renamed over it, then the journal told that the
//! file holds that serial, so that its updates need no longer be replayed
//! and may be dropped when it is compacted.
//!
//! The file is written as `crate::zone::writer` writes zones: one record
//! per line, canonical order, owners relative to `$ORIGIN`. Comments,
//! layout and `$INCLUDE`s of the original are not kept, as with Knot
//! (whose `zonefile-sync` rewrites the file the same way); the files an
//! `$INCLUDE` named are left as they were, and no longer read.
//!
//! It runs under the server's lock on its zones, so a reload or a batch
//! of updates cannot change the zone between the write and the mark.

use std::path::PathBuf;

use hickory_proto::rr::{Name, Record};

use crate::config::Role;
use crate::data_dir::write_atomically_with;
use crate::server::{serial, AuthServer};
use crate::zone::writer::write_zone;

/// A zone written back to its master file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flushed {
    pub zone: Name,
    pub serial: u32,
    pub file: PathBuf,
}

/// Why a zone could not be written back.
#[derive(Debug, thiserror::Error)]
pub enum FlushError {
    #[error("zone {0} is not served by this server")]
    Unknown(Name),
    #[error("zone {0} is a secondary: its copy in the data directory is written after each transfer, and it has no master file of its own")]
    Secondary(Name),
    #[error("zone {0} has no data to write")]
    NoData(Name),
    #[error("cannot write {file}: {reason}")]
    Write { file: PathBuf, reason: String },
    #[error("{file} was written, but the journal could not be told (its updates will be replayed over the file, harmlessly): {reason}")]
    Journal { file: PathBuf, reason: String },
}

/// Writes `origin`'s version served now to its master file.
pub(crate) fn flush(server: &AuthServer, origin: &Name) -> Result<Flushed, FlushError> {
    server
        .with_zone_locked(origin, |config, zone| {
            let Role::Primary(source) = &config.role else {
                return Err(FlushError::Secondary(origin.clone()));
            };
            let zone = zone.ok_or_else(|| FlushError::NoData(origin.clone()))?;
            let file = source.path.clone();
            let records: Vec<Record> = zone.records().collect();
            write_atomically_with(&file, |out| write_zone(zone.origin(), &records, out)).map_err(
                |e| FlushError::Write {
                    file: file.clone(),
                    reason: e.to_string(),
                },
            )?;
            let serial = serial(zone);
            if let Some(history) = &server.transfers().history {
                history
                    .mark_written(origin, serial)
                    .map_err(|e| FlushError::Journal {
                        file: file.clone(),
                        reason: e.to_string(),
                    })?;
            }
            Ok(Flushed {
                zone: origin.clone(),
                serial,
                file,
            })
        })
        .unwrap_or_else(|| Err(FlushError::Unknown(origin.clone())))
}
