//! Zones: reading master files ([`reader`]), the `named-checkzone` checks
//! ([`check`]) and the in-memory store the lookup reads ([`store`]); for
//! changes to a zone, changesets ([`diff`]), RFC 1982 serials
//! ([`serial`]), records in wire form ([`wire`]) and master files written
//! back ([`writer`]).
//!
//! [`load_zone`] and [`read_and_build`] stream records from the reader
//! into the store's compact form; [`reader::read_master_file`] keeps them
//! as hickory `Record`s, for callers that look at the records themselves.

pub(crate) mod check;
pub(crate) mod diff;
pub(crate) mod nsec3;
pub(crate) mod reader;
pub(crate) mod serial;
pub(crate) mod store;
pub(crate) mod wire;
pub(crate) mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hickory_proto::rr::{Name, Record};

pub(crate) use store::{Catalog, Node, PatchError, RDataRef, RRset};
pub use store::{CatalogError, Zone, ZoneSummary};

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
pub enum ZoneFileError {
    /// The file could not be read or parsed.
    Read(reader::ReadError),
    /// The file was read, but the zone breaks the rules of [`check::check_zone`] or of
    /// the store; every problem is listed.
    Invalid(Vec<check::Problem>),
}

impl fmt::Display for ZoneFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZoneFileError::Read(err) => write!(f, "{err}"),
            ZoneFileError::Invalid(problems) => {
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

impl std::error::Error for ZoneFileError {}

/// A master file read, checked and, when clean, built: what
/// [`read_and_build`] made of it.
#[derive(Debug)]
pub struct ZoneBuild {
    /// The zone's name: the one given, else the file's.
    pub origin: Name,
    /// What the reader accepted but warns about, whatever the outcome.
    pub warnings: Vec<reader::Warning>,
    /// The zone, or every problem [`check::check_zone`] found.
    pub zone: Result<Zone, Vec<check::Problem>>,
}

/// Reads the master file at `path` and builds its zone, never holding the
/// records as hickory `Record`s: they go from the reader to the store in
/// the store's compact form, whose size is the peak memory of a big load.
/// `origin` is the zone name when the caller knows it (`--zone NAME=FILE`).
pub fn read_and_build(path: &Path, origin: Option<&Name>) -> Result<ZoneBuild, reader::ReadError> {
    let mut records = store::CompactRecords::default();
    let reader::ReadSummary { origin, warnings } =
        reader::read_master_file_into(path, origin, &mut records)?;
    let zone = Zone::from_compact(origin.clone(), records);
    Ok(ZoneBuild {
        origin,
        warnings,
        zone,
    })
}

/// [`read_and_build`] for a server: warnings are logged, problems are an
/// error.
pub fn load_zone(path: &Path, origin: Option<&Name>) -> Result<Zone, ZoneFileError> {
    let built = read_and_build(path, origin).map_err(ZoneFileError::Read)?;
    for warning in &built.warnings {
        tracing::warn!(%warning, "zone file accepted with a warning");
    }
    let zone = built.zone.map_err(ZoneFileError::Invalid)?;
    for warning in zone.warnings() {
        tracing::warn!(%warning, "zone file accepted with a warning");
    }
    Ok(zone)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A master file in the temporary directory, removed when dropped.
    struct TempZone(PathBuf);

    impl TempZone {
        fn new(tag: &str, text: &str) -> TempZone {
            let path =
                std::env::temp_dir().join(format!("dnslab-load-{}-{tag}.zone", std::process::id()));
            std::fs::write(&path, text).unwrap();
            TempZone(path)
        }
    }

    impl Drop for TempZone {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    const APEX: &str = "$TTL 300
@ IN SOA ns.example.net. admin.example. 1 7200 900 1209600 300
@ IN NS ns.example.net.
";

    #[test]
    fn load_reads_checks_and_builds_the_zone() {
        let file = TempZone::new("good", &format!("{APEX}www IN A 192.0.2.1\n"));
        let origin = Name::from_ascii("example.").unwrap();
        let zone = load_zone(&file.0, Some(&origin)).unwrap();
        assert_eq!(zone.origin(), &origin);
        let www = zone
            .node(&Name::from_ascii("www.example.").unwrap())
            .unwrap();
        assert_eq!(www.rrsets().len(), 1);
    }

    #[test]
    fn load_lists_every_problem_with_file_and_line() {
        let file = TempZone::new(
            "bad",
            &format!("{APEX}www IN CNAME a.example.net.\nwww IN A 192.0.2.1\nfar.example.org. IN A 192.0.2.2\n"),
        );
        let origin = Name::from_ascii("example.").unwrap();
        let err = load_zone(&file.0, Some(&origin)).unwrap_err();
        let ZoneFileError::Invalid(problems) = &err else {
            panic!("expected problems, got {err}");
        };
        assert_eq!(problems.len(), 2, "{err}");
        let text = err.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        let path = file.0.display().to_string();
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("{path}:5: "))),
            "{text}"
        );
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("{path}:6: "))),
            "{text}"
        );
    }

    /// `dnslab check` prints the warnings of a file whose zone is broken
    /// too, so both come back together.
    #[test]
    fn read_and_build_returns_warnings_with_the_problems() {
        let file = TempZone::new(
            "warned",
            "@ IN SOA ns.example.net. admin.example. 1 7200 900 1209600 300
@ IN NS ns.example.net.
www IN CNAME a.example.net.
www IN A 192.0.2.1
",
        );
        let origin = Name::from_ascii("example.").unwrap();
        let built = read_and_build(&file.0, Some(&origin)).unwrap();
        assert_eq!(built.origin, origin);
        assert_eq!(built.warnings.len(), 1, "{:?}", built.warnings);
        assert_eq!(built.warnings[0].location.line, 1);
        let problems = built.zone.unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].kind,
            check::ProblemKind::CnameAndOtherData(hickory_proto::rr::RecordType::A)
        );
        assert_eq!(problems[0].location.as_ref().map(|l| l.line), Some(4));
    }

    #[test]
    fn load_reports_an_unreadable_file_with_its_path() {
        let missing =
            std::env::temp_dir().join(format!("dnslab-load-{}-missing.zone", std::process::id()));
        let err = load_zone(&missing, Some(&Name::root())).unwrap_err();
        assert!(matches!(err, ZoneFileError::Read(_)), "{err}");
        assert!(
            err.to_string().starts_with(&missing.display().to_string()),
            "{err}"
        );
    }
}
