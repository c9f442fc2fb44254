//! Reading RFC 1035 master files as BIND writes them.
//!
//! This module owns the text side of a zone: the lexer (lines, parentheses,
//! quoted strings, comments), the directives (`$ORIGIN`, `$TTL`,
//! `$INCLUDE`, `$GENERATE`), and the owner / TTL / class / type columns of
//! every record. Record data is turned into
//! [`RData`](hickory_proto::rr::RData) here too: the common types directly
//! (they are the hot path and carry names that must be made absolute
//! against the current origin), the rest through hickory-proto's
//! `RData::try_from_str`, and RFC 3597 `\#` data through hickory's wire
//! decoder.
//!
//! It knows nothing about zone rules: [`super::check`] judges the records
//! this module returns, and [`super::store`] indexes them.
//!
//! Decisions where RFC 1035 is silent, taken as BIND takes them:
//! - TTL: `$TTL` when given; else the last explicit TTL (RFC 1035); else an
//!   SOA without TTL takes its MINIMUM (with a warning), which becomes the
//!   default from then on; any other record without TTL is an error.
//! - `$ORIGIN` and the previous owner are per file: an `$INCLUDE`d file may
//!   change them, and the including file continues with its own.
//! - Relative `$INCLUDE` paths are taken relative to the including file's
//!   directory (BIND uses its working directory; ours is more useful for
//!   `dnslab check` run from anywhere).
//!
//! Each part has its own file under `reader/`: `lexer` (entries of
//! tokens), `directives` (`$ORIGIN`, `$TTL`, `$INCLUDE`), `generate`
//! (`$GENERATE`), `columns` (owner, TTL, class, type), `rdata` (record
//! data, with `dnssec` and `loc` for the types hickory cannot read); names
//! typed outside zone files and DNAME data are `dnslab_wire`'s. This file holds
//! what callers use, and the state one read shares across its files.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hickory_proto::rr::{Name, Record, RecordType};

use super::{Location, SourcedRecord};

mod columns;
mod directives;
mod dnssec;
mod generate;
mod lexer;
mod loc;
mod rdata;

pub(crate) use columns::type_mnemonic;
pub(crate) use dnssec::type_covered;
// Records built as the reader builds them: an update's RFC 3597 `\# 0`,
// and the tests' (the store's, the checker's).
pub(crate) use rdata::unknown;

use lexer::Lexer;

/// How deep `$INCLUDE` may nest; deeper is almost surely a loop.
const MAX_INCLUDE_DEPTH: usize = 16;

/// A master file as read: its origin and every record with its location.
#[derive(Debug)]
pub struct MasterFile {
    pub origin: Name,
    pub records: Vec<SourcedRecord>,
    /// Things BIND warns about but accepts (e.g. TTL taken from the SOA).
    pub warnings: Vec<Warning>,
}

/// Something accepted but worth telling the zone's author.
#[derive(Clone, Debug)]
pub struct Warning {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// A master file that could not be read; `Display` starts with `file:line`
/// (just `file` when the file itself could not be opened).
#[derive(Debug, thiserror::Error)]
pub struct ReadError {
    pub location: Location,
    pub kind: ReadErrorKind,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.line == 0 {
            write!(f, "{}: {}", self.location.file.display(), self.kind)
        } else {
            write!(f, "{}: {}", self.location, self.kind)
        }
    }
}

/// What was wrong at a [`ReadError`]'s location.
#[derive(Debug, thiserror::Error)]
pub enum ReadErrorKind {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unknown directive {0}: expected $ORIGIN, $TTL, $INCLUDE or $GENERATE")]
    UnknownDirective(String),
    #[error("{directive}: {problem}")]
    BadDirective {
        directive: &'static str,
        problem: String,
    },
    #[error("unterminated parenthesis: '(' opened on this line is never closed")]
    UnterminatedParenthesis,
    #[error("')' without a matching '('")]
    UnbalancedParenthesis,
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    #[error("bad TTL {0:?}: expected seconds or units like 1h30m")]
    BadTtl(String),
    #[error("bad name {name:?}: {reason}")]
    BadName { name: String, reason: String },
    #[error("relative name {0:?} but no origin is known: add $ORIGIN or give the zone name")]
    NoOrigin(String),
    #[error("no owner: the first record must name its owner")]
    NoOwner,
    #[error("no TTL specified: add $TTL or give this record a TTL")]
    NoTtl,
    #[error("class {0} does not match the zone's class IN")]
    WrongClass(String),
    #[error("unknown record type {0:?} (use TYPEnnn with RFC 3597 \\# data)")]
    UnknownType(String),
    #[error("missing record type")]
    MissingType,
    #[error("bad {rtype} data: {reason}")]
    BadRdata { rtype: RecordType, reason: String },
    #[error("$INCLUDE nested deeper than {MAX_INCLUDE_DEPTH} files (an include loop?)")]
    IncludeTooDeep,
    #[error("cannot tell the zone's origin: no $ORIGIN, no absolute SOA owner, and none given")]
    UnknownZoneOrigin,
    /// An error inside an `$INCLUDE`d file, located in that file.
    #[error("{0}")]
    Included(Box<ReadError>),
}

/// Where the reader puts each record as it reads it. `Vec<SourcedRecord>`
/// keeps the records as hickory `Record`s (for `dnslab check`, the tests);
/// the store's loader keeps a compact form instead, so that a big zone is
/// never held as a vector of 300-byte `Record`s.
pub(crate) trait RecordSink {
    /// About `additional` more records are coming (one a line of text).
    fn reserve(&mut self, additional: usize);
    fn push(&mut self, record: Record, location: Location);
}

impl RecordSink for Vec<SourcedRecord> {
    fn reserve(&mut self, additional: usize) {
        Vec::reserve(self, additional);
    }

    fn push(&mut self, record: Record, location: Location) {
        Vec::push(self, SourcedRecord { record, location });
    }
}

/// What [`read_master_file_into`] learnt besides the records it handed over.
#[derive(Debug)]
pub(crate) struct ReadSummary {
    pub origin: Name,
    pub warnings: Vec<Warning>,
}

/// Reads the file at `path`; `origin` is the zone name when the caller knows
/// it (`--zone NAME=FILE`), else it comes from the file: its first
/// `$ORIGIN`, or the owner of its SOA when that is absolute.
pub fn read_master_file(path: &Path, origin: Option<&Name>) -> Result<MasterFile, ReadError> {
    let mut records = Vec::new();
    let ReadSummary { origin, warnings } = read_master_file_into(path, origin, &mut records)?;
    Ok(MasterFile {
        origin,
        records,
        warnings,
    })
}

/// [`read_master_file`], handing each record to `sink` in file order as
/// it is read.
pub(crate) fn read_master_file_into(
    path: &Path,
    origin: Option<&Name>,
    sink: &mut dyn RecordSink,
) -> Result<ReadSummary, ReadError> {
    let top = Arc::new(path.to_path_buf());
    let text = read_text(path).map_err(|kind| ReadError {
        location: Location {
            file: top.clone(),
            line: 0,
        },
        kind,
    })?;
    // One record a line is the common shape; reserving up front spares
    // copying a million records each time the vector would grow.
    sink.reserve(text.bytes().filter(|&b| b == b'\n').count());
    let mut reader = Reader::new(origin.cloned(), sink);
    reader.read_source(&text, top.clone(), origin.cloned())?;
    let Some(origin) = reader.zone_origin else {
        return Err(ReadError {
            location: Location { file: top, line: 0 },
            kind: ReadErrorKind::UnknownZoneOrigin,
        });
    };
    Ok(ReadSummary {
        origin,
        warnings: reader.warnings,
    })
}

/// One record written as a line of a master file whose origin is
/// `origin`, read as [`read_master_file`] would read it: the zone writer
/// ([`super::writer`]) checks with it that what it writes reads back as
/// the record it wrote.
pub(crate) fn read_line(line: &str, origin: &Name) -> Result<Record, String> {
    let mut records = Vec::new();
    let mut reader = Reader::new(Some(origin.clone()), &mut records);
    reader
        .read_source(line, Arc::new(PathBuf::from("-")), Some(origin.clone()))
        .map_err(|e| e.to_string())?;
    match records.pop() {
        Some(one) if records.is_empty() => Ok(one.record),
        _ => Err("not exactly one record".into()),
    }
}

/// Master files larger than this are refused: 4 GiB is far beyond any real
/// zone, and the limit keeps a `$INCLUDE /dev/zero` from eating memory.
const MAX_FILE_BYTES: u64 = 4 << 30;

fn read_text(path: &Path) -> Result<String, ReadErrorKind> {
    let io_error = |source| ReadErrorKind::Io {
        path: path.to_path_buf(),
        source,
    };
    // Only regular files: a device or FIFO (`$INCLUDE /dev/zero`) would be
    // read forever.
    let metadata = std::fs::metadata(path).map_err(io_error)?;
    if !metadata.is_file() || metadata.len() > MAX_FILE_BYTES {
        return Err(io_error(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file of at most 4 GiB",
        )));
    }
    let bytes = std::fs::read(path).map_err(io_error)?;
    // Zone files are ASCII in practice; stray Latin-1 in a TXT comment
    // should not make the whole file unreadable.
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

// ---------------------------------------------------------------------------
// The reader: state shared by a file and its includes, and the loop over
// its entries.

/// State shared by a file and everything it includes.
struct Reader<'s> {
    /// The zone's name: given by the caller, or discovered from the first
    /// `$ORIGIN` or an absolute SOA owner.
    zone_origin: Option<Name>,
    /// `$TTL`, or the SOA MINIMUM when the SOA had no TTL (BIND).
    default_ttl: Option<u32>,
    /// The last explicit TTL, used when there is no default (RFC 1035 5.1).
    last_ttl: Option<u32>,
    sink: &'s mut dyn RecordSink,
    warnings: Vec<Warning>,
    depth: usize,
}

/// State private to one file: `$ORIGIN` and the previous owner do not leak
/// out of an `$INCLUDE`d file.
struct FileState {
    file: Arc<PathBuf>,
    origin: Option<Name>,
    last_owner: Option<Name>,
}

impl FileState {
    fn at(&self, line: u32) -> Location {
        Location {
            file: self.file.clone(),
            line,
        }
    }
}

impl<'s> Reader<'s> {
    fn new(zone_origin: Option<Name>, sink: &'s mut dyn RecordSink) -> Self {
        Reader {
            zone_origin,
            default_ttl: None,
            last_ttl: None,
            sink,
            warnings: Vec::new(),
            depth: 0,
        }
    }

    fn read_source(
        &mut self,
        text: &str,
        file: Arc<PathBuf>,
        origin: Option<Name>,
    ) -> Result<(), ReadError> {
        let mut state = FileState {
            file,
            origin,
            last_owner: None,
        };
        let mut lexer = Lexer::new(text);
        let mut tokens = Vec::with_capacity(16);
        loop {
            let entry = match lexer.next_entry(&mut tokens) {
                Ok(Some(entry)) => entry,
                Ok(None) => return Ok(()),
                Err((line, kind)) => {
                    return Err(ReadError {
                        location: state.at(line),
                        kind,
                    })
                }
            };
            let first = tokens[0];
            let result = if !entry.blank_owner && !first.quoted && first.text.starts_with('$') {
                self.directive(&mut state, entry.line, &tokens)
            } else {
                self.record(&mut state, entry, &tokens)
            };
            result.map_err(|kind| match kind {
                ReadErrorKind::Included(inner) => *inner,
                kind => ReadError {
                    location: state.at(entry.line),
                    kind,
                },
            })?;
        }
    }

    fn warn(&mut self, state: &FileState, line: u32, message: String) {
        // Collected, not logged: the caller decides how to show them.
        self.warnings.push(Warning {
            location: state.at(line),
            message,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads master-file text as if it were the file `test.zone`.
    pub(super) fn read_str(
        text: &str,
        origin: Option<Name>,
    ) -> Result<Vec<SourcedRecord>, ReadError> {
        let mut records = Vec::new();
        let mut reader = Reader::new(origin.clone(), &mut records);
        reader.read_source(text, Arc::new(PathBuf::from("test.zone")), origin)?;
        Ok(records)
    }

    /// Random mixes of master-file pieces never panic, and every error
    /// points at a line of the input.
    #[test]
    fn arbitrary_input_gives_errors_not_panics() {
        const PIECES: &[&str] = &[
            "@",
            "www",
            "$TTL",
            "$ORIGIN",
            "$GENERATE",
            "(",
            ")",
            "\"",
            "\\",
            ";",
            "\n",
            " ",
            "\t",
            "A",
            "SOA",
            "TXT",
            "IN",
            "CH",
            "CLASS1",
            "TYPE65534",
            "\\#",
            "4",
            "0a000001",
            "1h",
            "${0,3,n}",
            "$",
            "1-3",
            ".",
            "..",
            "192.0.2.1",
            "example.com.",
            "CNAME",
            "DNAME",
            "MX",
            "10",
            "SVCB",
            "DS",
            "NAPTR",
            "\\065",
            "*",
            "${",
            "-",
            "\u{e9}",
        ];
        // xorshift: deterministic, no dependency.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let origin = Name::from_ascii("example.com.").unwrap();
        for _ in 0..2000 {
            let text: String = (0..40)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let lines = u32::try_from(text.lines().count()).unwrap() + 1;
            if let Err(e) = read_str(&text, Some(origin.clone())) {
                assert!(e.location.line <= lines, "{e} for {text:?}");
            }
        }
    }
}
