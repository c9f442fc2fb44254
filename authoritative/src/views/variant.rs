//! A view's zone: its own master file, or the zone's master file with
//! some RRsets replaced. Either is checked as any zone is (the
//! `named-checkzone` rules), so a view cannot serve what a zone could not.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hickory_proto::rr::{Name, RecordType};

use super::{View, ViewData, ViewError, ViewProblem, ViewRecords};
use crate::zone::reader::{read_line, read_master_file};
use crate::zone::{load_zone, Location, SourcedRecord, Zone, ZoneFileError};

/// The zone `origin`, whose own master file is `base`, as the clients of
/// `view` see it.
pub(crate) fn load_view(origin: &Name, base: &Path, view: &View) -> Result<Zone, ViewError> {
    let file_error = |error| {
        let view = view.name.clone();
        ViewError::zone(origin, ViewProblem::File { view, error })
    };
    match &view.data {
        ViewData::File(path) => load_zone(path, Some(origin)).map_err(file_error),
        ViewData::Records(replacing) => {
            let file = read_master_file(base, Some(origin))
                .map_err(|e| file_error(ZoneFileError::Read(e)))?;
            let records = replace(origin, &view.name, file.records, replacing)?;
            Zone::from_records(origin.clone(), records)
                .map_err(|problems| file_error(ZoneFileError::Invalid(problems)))
        }
    }
}

/// `records` with the RRsets of `replacing` in place of theirs.
pub(super) fn replace(
    origin: &Name,
    view: &str,
    mut records: Vec<SourcedRecord>,
    replacing: &[ViewRecords],
) -> Result<Vec<SourcedRecord>, ViewError> {
    let ttl = records
        .iter()
        .find(|r| r.record.record_type() == RecordType::SOA)
        .map_or(3600, |soa| soa.record.ttl);
    let location = Location {
        file: Arc::new(PathBuf::from(format!("view {view} of {origin}"))),
        line: 0,
    };
    let mut added = Vec::new();
    for at_name in replacing {
        for line in &at_name.records {
            // `$TTL` first: a line without a TTL takes the SOA's.
            let text = format!("$TTL {ttl}\n{} {line}", at_name.owner);
            let record = read_line(&text, origin).map_err(|reason| {
                let problem = ViewProblem::Record {
                    view: view.to_string(),
                    owner: at_name.owner.clone(),
                    reason: format!("{line:?}: {reason}"),
                };
                ViewError::zone(origin, problem)
            })?;
            added.push(SourcedRecord {
                record,
                location: location.clone(),
            });
        }
    }
    records.retain(|kept| {
        !added.iter().any(|new| {
            new.record.name == kept.record.name
                && new.record.record_type() == kept.record.record_type()
        })
    });
    records.extend(added);
    Ok(records)
}
