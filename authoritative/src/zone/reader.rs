//! Reading RFC 1035 master files as BIND writes them.
//!
//! This module owns the text side of a zone: the lexer (lines, parentheses,
//! quoted strings, comments), the directives (`$ORIGIN`, `$TTL`,
//! `$INCLUDE`, `$GENERATE`), and the owner / TTL / class / type columns of
//! every record. Record data is turned into [`RData`] here too: the common
//! types directly (they are the hot path and carry names that must be made
//! absolute against the current origin), the rest through hickory-proto's
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

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use dnslab_wire::{dname_rdata, dname_target, escaped_name, for_each_byte, push_name};
use hickory_proto::rr::rdata::{A, AAAA, ANAME, CNAME, MX, NS, NULL, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{DNSClass, Label, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecoder, Restrict};

use super::{Location, SourcedRecord};

mod dnssec;
mod loc;

pub(crate) use dnssec::type_covered;

/// How deep `$INCLUDE` may nest; deeper is almost surely a loop.
const MAX_INCLUDE_DEPTH: usize = 16;
/// Most records one `$GENERATE` may make: a typo in a range (`1-10000000000`
/// is rejected as too large for u32, but `0-4000000000` is not) must not
/// exhaust memory; two million is well above the largest real use.
const MAX_GENERATED: u64 = 1 << 21;
/// Widest `${offset,width}` field of `$GENERATE`: the length of a name.
const MAX_GENERATE_WIDTH: usize = 255;

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
pub trait RecordSink {
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

/// What [`read_file_into`] learnt besides the records it handed over.
#[derive(Debug)]
pub struct ReadSummary {
    pub origin: Name,
    pub warnings: Vec<Warning>,
}

/// Reads the file at `path`; `origin` is the zone name when the caller knows
/// it (`--zone NAME=FILE`), else it comes from the file: its first
/// `$ORIGIN`, or the owner of its SOA when that is absolute.
pub fn read_file(path: &Path, origin: Option<&Name>) -> Result<MasterFile, ReadError> {
    let mut records = Vec::new();
    let ReadSummary { origin, warnings } = read_file_into(path, origin, &mut records)?;
    Ok(MasterFile {
        origin,
        records,
        warnings,
    })
}

/// [`read_file`], handing each record to `sink` in file order as it is read.
pub fn read_file_into(
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
// Lexer: RFC 1035 5.1.

/// One token of an entry. Escapes (`\.`, `\DDD`, `\"`) are left in `text`
/// for whoever interprets the token; `quoted` tokens are the inside of a
/// `"..."` string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Token<'a> {
    text: &'a str,
    quoted: bool,
}

impl<'a> Token<'a> {
    fn bare(text: &'a str) -> Self {
        Token {
            text,
            quoted: false,
        }
    }
}

/// The start of one logical entry (a line, or several joined by
/// parentheses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    line: u32,
    /// The entry's line begins with blank space: the owner is omitted and
    /// is the previous record's (RFC 1035 5.1).
    blank_owner: bool,
}

/// Splits master-file text into entries of tokens without copying.
struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: u32,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            line: 1,
        }
    }

    /// Reads the next non-empty entry's tokens into `out` (cleared first);
    /// `None` at end of input. Errors carry their line.
    fn next_entry(
        &mut self,
        out: &mut Vec<Token<'a>>,
    ) -> Result<Option<Entry>, (u32, ReadErrorKind)> {
        let bytes = self.src.as_bytes();
        loop {
            out.clear();
            if self.pos >= bytes.len() {
                return Ok(None);
            }
            let entry = Entry {
                line: self.line,
                blank_owner: matches!(bytes[self.pos], b' ' | b'\t'),
            };
            let mut depth = 0u32;
            let mut paren_line = 0;
            while let Some(&b) = bytes.get(self.pos) {
                match b {
                    b'\n' => {
                        self.line += 1;
                        self.pos += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    b' ' | b'\t' | b'\r' => self.pos += 1,
                    b';' => {
                        self.pos = memchr_newline(bytes, self.pos);
                    }
                    b'(' => {
                        if depth == 0 {
                            paren_line = self.line;
                        }
                        depth += 1;
                        self.pos += 1;
                    }
                    b')' => {
                        if depth == 0 {
                            return Err((self.line, ReadErrorKind::UnbalancedParenthesis));
                        }
                        depth -= 1;
                        self.pos += 1;
                    }
                    b'"' => {
                        let start_line = self.line;
                        let start = self.pos + 1;
                        let mut i = start;
                        loop {
                            match bytes.get(i) {
                                None => return Err((start_line, ReadErrorKind::UnterminatedQuote)),
                                Some(b'"') => break,
                                Some(b'\\') => {
                                    if bytes.get(i + 1) == Some(&b'\n') {
                                        self.line += 1;
                                    }
                                    i += 2;
                                }
                                Some(b'\n') => {
                                    self.line += 1;
                                    i += 1;
                                }
                                Some(_) => i += 1,
                            }
                        }
                        out.push(Token {
                            text: &self.src[start..i],
                            quoted: true,
                        });
                        self.pos = i + 1;
                    }
                    _ => {
                        let start = self.pos;
                        let mut i = start;
                        while let Some(&c) = bytes.get(i) {
                            match c {
                                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"' => break,
                                // An escaped byte never ends the token; an
                                // escaped newline is not allowed to hide one.
                                b'\\' if bytes.get(i + 1).is_some_and(|&n| n != b'\n') => i += 2,
                                _ => i += 1,
                            }
                        }
                        let end = i.min(bytes.len());
                        out.push(Token::bare(&self.src[start..end]));
                        self.pos = end;
                    }
                }
            }
            if depth > 0 {
                return Err((paren_line, ReadErrorKind::UnterminatedParenthesis));
            }
            if !out.is_empty() {
                return Ok(Some(entry));
            }
        }
    }
}

/// The index of the next `\n` at or after `from`, or the end.
fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        .map_or(bytes.len(), |p| from + p)
}

// ---------------------------------------------------------------------------
// The reader: directives and records.

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

    /// `$ORIGIN`, `$TTL`, `$INCLUDE` (RFC 1035 5.1) and BIND's `$GENERATE`.
    fn directive(
        &mut self,
        state: &mut FileState,
        line: u32,
        tokens: &[Token<'_>],
    ) -> Result<(), ReadErrorKind> {
        let name = tokens[0].text;
        let args = &tokens[1..];
        let bad = |directive: &'static str, problem: &str| ReadErrorKind::BadDirective {
            directive,
            problem: problem.to_string(),
        };
        if name.eq_ignore_ascii_case("$ORIGIN") {
            let [arg] = args else {
                return Err(bad("$ORIGIN", "expects exactly one domain name"));
            };
            let origin = parse_name(arg.text, state.origin.as_ref())?;
            if self.zone_origin.is_none() {
                self.zone_origin = Some(origin.clone());
            }
            state.origin = Some(origin);
            Ok(())
        } else if name.eq_ignore_ascii_case("$TTL") {
            let [arg] = args else {
                return Err(bad("$TTL", "expects exactly one TTL"));
            };
            self.default_ttl = Some(self.checked_ttl(state, line, arg.text)?);
            Ok(())
        } else if name.eq_ignore_ascii_case("$INCLUDE") {
            let (file, origin) = match args {
                [file] => (file, state.origin.clone()),
                [file, origin] => (file, Some(parse_name(origin.text, state.origin.as_ref())?)),
                _ => {
                    return Err(bad(
                        "$INCLUDE",
                        "expects a file name and an optional origin",
                    ))
                }
            };
            self.include(state, line, file.text, origin)
        } else if name.eq_ignore_ascii_case("$GENERATE") {
            self.generate(state, line, args)
        } else {
            Err(ReadErrorKind::UnknownDirective(name.to_string()))
        }
    }

    fn include(
        &mut self,
        state: &FileState,
        line: u32,
        file: &str,
        origin: Option<Name>,
    ) -> Result<(), ReadErrorKind> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(ReadErrorKind::IncludeTooDeep);
        }
        let path = match state.file.parent() {
            Some(dir) if Path::new(file).is_relative() => dir.join(file),
            _ => PathBuf::from(file),
        };
        let text = read_text(&path)?;
        tracing::debug!(including = %state.at(line), path = %path.display(), "$INCLUDE");
        self.depth += 1;
        let result = self.read_source(&text, Arc::new(path), origin);
        self.depth -= 1;
        // An error inside the included file already names its own file and
        // line; pass it up unchanged rather than re-locating it here.
        result.map_err(|e| ReadErrorKind::Included(Box::new(e)))
    }

    /// BIND's `$GENERATE range lhs [ttl] [class] type rhs`: one record per
    /// value of the range, `$` in lhs and rhs replaced by the value.
    fn generate(
        &mut self,
        state: &mut FileState,
        line: u32,
        args: &[Token<'_>],
    ) -> Result<(), ReadErrorKind> {
        let bad = |problem: String| ReadErrorKind::BadDirective {
            directive: "$GENERATE",
            problem,
        };
        let [range, template @ ..] = args else {
            return Err(bad("expects a range, an owner, a type and data".into()));
        };
        if template.len() < 3 {
            return Err(bad("expects a range, an owner, a type and data".into()));
        }
        let range = GenerateRange::parse(range.text).map_err(bad)?;
        if u64::from((range.stop - range.start) / range.step) >= MAX_GENERATED {
            return Err(bad(format!(
                "the range makes more than {MAX_GENERATED} records"
            )));
        }
        // Which template tokens are lhs/rhs (expanded) and which are the
        // TTL/class/type columns (kept).
        let type_at = template
            .iter()
            .skip(1)
            .position(|t| !t.quoted && !is_ttl_or_class(t.text))
            .map(|p| p + 1)
            .ok_or_else(|| bad("missing record type".into()))?;
        let mut value = range.start;
        loop {
            let text = join_tokens(template, |i, text, out| {
                if i == 0 || i > type_at {
                    expand_generate(text, value, out)
                } else {
                    out.push_str(text);
                    Ok(())
                }
            })
            .map_err(bad)?;
            let mut lexer = Lexer::new(&text);
            lexer.line = line;
            let mut generated = Vec::with_capacity(template.len());
            match lexer.next_entry(&mut generated) {
                Ok(Some(entry)) => self.record(state, entry, &generated)?,
                Ok(None) => return Err(bad("expands to nothing".into())),
                Err((_, kind)) => return Err(kind),
            }
            match value.checked_add(range.step) {
                Some(next) if next <= range.stop => value = next,
                _ => return Ok(()),
            }
        }
    }

    /// One resource record: `[owner] [ttl] [class] type rdata` with TTL and
    /// class in either order (RFC 1035 5.1).
    fn record(
        &mut self,
        state: &mut FileState,
        entry: Entry,
        tokens: &[Token<'_>],
    ) -> Result<(), ReadErrorKind> {
        let (owner, mut rest) = if entry.blank_owner {
            (
                state.last_owner.clone().ok_or(ReadErrorKind::NoOwner)?,
                tokens,
            )
        } else {
            (
                parse_name(tokens[0].text, state.origin.as_ref())?,
                &tokens[1..],
            )
        };

        let mut ttl = None;
        let mut class_seen = false;
        while let Some((token, after)) = rest.split_first() {
            if token.quoted {
                break;
            }
            let first = token.text.as_bytes().first().copied().unwrap_or(0);
            if ttl.is_none() && first.is_ascii_digit() {
                ttl = Some(self.checked_ttl(state, entry.line, token.text)?);
            } else if !class_seen && is_class(token.text) {
                if parse_class(token.text) != Some(DNSClass::IN) {
                    return Err(ReadErrorKind::WrongClass(token.text.to_string()));
                }
                class_seen = true;
            } else {
                break;
            }
            rest = after;
        }
        let (rtype_token, rdata_tokens) = rest.split_first().ok_or(ReadErrorKind::MissingType)?;
        if rtype_token.quoted {
            return Err(ReadErrorKind::UnknownType(rtype_token.text.to_string()));
        }
        let rtype = parse_type(rtype_token.text)
            .ok_or_else(|| ReadErrorKind::UnknownType(rtype_token.text.to_string()))?;

        // With no $ORIGIN and no origin given, an absolute SOA owner is the
        // origin, so the SOA's own relative names can be read against it.
        if rtype == RecordType::SOA && state.origin.is_none() && owner.is_fqdn() {
            state.origin = Some(owner.clone());
        }
        if rtype == RecordType::SOA && self.zone_origin.is_none() {
            self.zone_origin = Some(owner.clone());
        }

        let rdata = parse_rdata(rtype, rdata_tokens, state.origin.as_ref())
            .map_err(|reason| ReadErrorKind::BadRdata { rtype, reason })?;
        let ttl = self.resolve_ttl(state, entry.line, ttl, &rdata)?;

        let mut record = Record::from_rdata(owner.clone(), ttl, rdata);
        record.dns_class = DNSClass::IN;
        self.sink.push(record, state.at(entry.line));
        state.last_owner = Some(owner);
        Ok(())
    }

    /// The TTL of a record as BIND decides it (see the module doc).
    fn resolve_ttl(
        &mut self,
        state: &FileState,
        line: u32,
        explicit: Option<u32>,
        rdata: &RData,
    ) -> Result<u32, ReadErrorKind> {
        if let Some(ttl) = explicit {
            self.last_ttl = Some(ttl);
            return Ok(ttl);
        }
        if let Some(ttl) = self.default_ttl {
            return Ok(ttl);
        }
        if let Some(ttl) = self.last_ttl {
            return Ok(ttl);
        }
        match rdata {
            RData::SOA(soa) => {
                let ttl = soa.minimum;
                self.warn(
                    state,
                    line,
                    "no TTL specified; using SOA MINIMUM instead".into(),
                );
                self.default_ttl = Some(ttl);
                Ok(ttl)
            }
            _ => Err(ReadErrorKind::NoTtl),
        }
    }

    /// A TTL token; values above 2^31-1 become 0 as RFC 2181 8 says, with
    /// a warning.
    fn checked_ttl(
        &mut self,
        state: &FileState,
        line: u32,
        text: &str,
    ) -> Result<u32, ReadErrorKind> {
        let ttl = parse_ttl(text).ok_or_else(|| ReadErrorKind::BadTtl(text.to_string()))?;
        if ttl > i32::MAX as u32 {
            self.warn(
                state,
                line,
                format!("TTL {ttl} above 2^31-1 taken as 0 (RFC 2181 8)"),
            );
            return Ok(0);
        }
        Ok(ttl)
    }

    fn warn(&mut self, state: &FileState, line: u32, message: String) {
        // Collected, not logged: the caller decides how to show them.
        self.warnings.push(Warning {
            location: state.at(line),
            message,
        });
    }
}

// ---------------------------------------------------------------------------
// Columns: names, TTLs, classes, types.

/// A domain name token: `@` is the origin, names without a final dot are
/// relative to it (RFC 1035 5.1).
fn parse_name(text: &str, origin: Option<&Name>) -> Result<Name, ReadErrorKind> {
    if text == "@" {
        return origin
            .cloned()
            .ok_or_else(|| ReadErrorKind::NoOrigin(text.to_string()));
    }
    let bad = |e: hickory_proto::ProtoError| ReadErrorKind::BadName {
        name: text.to_string(),
        reason: e.to_string(),
    };
    let name = if text.contains('\\') {
        // hickory reads `\DDD` as octal; RFC 1035 5.1 (and BIND) decimal.
        escaped_name(text).map_err(|reason| ReadErrorKind::BadName {
            name: text.to_string(),
            reason,
        })?
    } else if text.contains("..") || text.starts_with('.') {
        Name::from_ascii(text).map_err(bad)?
    } else {
        // The hot path (a million `hostN` owners): labels straight from the
        // token's bytes, with no escapes to interpret.
        let mut name = Name::new();
        for label in text.split('.').filter(|l| !l.is_empty()) {
            name = name
                .append_label(Label::from_raw_bytes(label.as_bytes()).map_err(bad)?)
                .map_err(bad)?;
        }
        name.set_fqdn(text.ends_with('.'));
        name
    };
    if name.is_fqdn() {
        return Ok(name);
    }
    let origin = origin.ok_or_else(|| ReadErrorKind::NoOrigin(text.to_string()))?;
    name.append_domain(origin).map_err(bad)
}

/// A TTL in seconds or BIND units (`1w2d3h4m5s`, case-insensitive, a
/// trailing bare number is seconds); `None` when malformed or above u32.
fn parse_ttl(text: &str) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for b in text.bytes() {
        if b.is_ascii_digit() {
            let n = number.unwrap_or(0) * 10 + u64::from(b - b'0');
            if n > u64::from(u32::MAX) {
                return None;
            }
            number = Some(n);
            continue;
        }
        let unit = match b.to_ascii_lowercase() {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            b'w' => 604_800,
            _ => return None,
        };
        // Each term fits u64, but a long token of terms could still
        // overflow the sum: stop as soon as it leaves u32.
        total += number.take()? * unit;
        if total > u64::from(u32::MAX) {
            return None;
        }
    }
    total += number.unwrap_or(0);
    u32::try_from(total).ok()
}

fn is_class(text: &str) -> bool {
    parse_class(text).is_some()
}

/// `IN`, `CH`, `HS` or RFC 3597 `CLASSnnn`, case-insensitive.
fn parse_class(text: &str) -> Option<DNSClass> {
    if text.eq_ignore_ascii_case("IN") {
        return Some(DNSClass::IN);
    }
    if text.eq_ignore_ascii_case("CH") {
        return Some(DNSClass::CH);
    }
    if text.eq_ignore_ascii_case("HS") {
        return Some(DNSClass::HS);
    }
    let number = strip_prefix_ignore_case(text, "CLASS")?;
    number.parse::<u16>().ok().map(DNSClass::from)
}

fn is_ttl_or_class(text: &str) -> bool {
    parse_ttl(text).is_some() || is_class(text)
}

/// A type mnemonic (case-insensitive) or RFC 3597 `TYPEnnn`.
fn parse_type(text: &str) -> Option<RecordType> {
    // The hot path: upper-case mnemonics parse without allocating.
    if let Ok(rtype) = RecordType::from_str(text) {
        return Some(rtype);
    }
    if let Some(number) = strip_prefix_ignore_case(text, "TYPE") {
        return number.parse::<u16>().ok().map(RecordType::from);
    }
    if let Some(&(_, code)) = MORE_TYPES
        .iter()
        .find(|(mnemonic, _)| mnemonic.eq_ignore_ascii_case(text))
    {
        return Some(RecordType::from(code));
    }
    RecordType::from_str(&text.to_ascii_uppercase()).ok()
}

/// Mnemonics BIND, NSD and Knot read that hickory-proto 0.26 does not
/// know. Their data is read here and kept as wire bytes, as DS is.
const MORE_TYPES: [(&str, u16); 4] = [
    ("RP", TYPE_RP),
    ("LOC", TYPE_LOC),
    ("SPF", TYPE_SPF),
    ("URI", TYPE_URI),
];
/// RFC 1183 2.2: a mailbox and the owner of a TXT record.
const TYPE_RP: u16 = 17;
/// RFC 1876: a location on the globe.
const TYPE_LOC: u16 = 29;
/// RFC 7208 (obsolete, still found in zones): TXT's format.
const TYPE_SPF: u16 = 99;
/// RFC 7553 4.5: priority, weight, target.
const TYPE_URI: u16 = 256;

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
        .filter(|rest| !rest.is_empty())
}

// ---------------------------------------------------------------------------
// Record data.

/// The RDATA of one record from its tokens. Types whose data holds domain
/// names are read here so that relative names are completed with the
/// current origin (hickory's `try_from_str` has none).
fn parse_rdata(
    rtype: RecordType,
    tokens: &[Token<'_>],
    origin: Option<&Name>,
) -> Result<RData, String> {
    if let Some(first) = tokens.first() {
        if !first.quoted && first.text == "\\#" {
            return parse_generic_rdata(rtype, &tokens[1..]);
        }
    }
    let name = |token: &Token<'_>| parse_name(token.text, origin).map_err(|e| e.to_string());
    let number = |token: &Token<'_>, what: &str| {
        token
            .text
            .parse::<u16>()
            .map_err(|_| format!("{what} {:?} is not a number 0-65535", token.text))
    };
    let interval = |token: &Token<'_>, what: &str| {
        parse_ttl(token.text)
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| format!("{what} {:?} is not a time interval", token.text))
    };
    let fields = |n: usize| -> Result<(), String> {
        if tokens.len() == n {
            Ok(())
        } else {
            Err(format!("expected {n} fields, found {}", tokens.len()))
        }
    };
    let rdata = match rtype {
        RecordType::A => {
            fields(1)?;
            let addr = Ipv4Addr::from_str(tokens[0].text)
                .map_err(|_| format!("{:?} is not an IPv4 address", tokens[0].text))?;
            RData::A(A(addr))
        }
        RecordType::AAAA => {
            fields(1)?;
            let addr = Ipv6Addr::from_str(tokens[0].text)
                .map_err(|_| format!("{:?} is not an IPv6 address", tokens[0].text))?;
            RData::AAAA(AAAA(addr))
        }
        RecordType::NS
        | RecordType::CNAME
        | RecordType::PTR
        | RecordType::ANAME
        | RecordType::DNAME => {
            fields(1)?;
            let target = name(&tokens[0])?;
            match rtype {
                RecordType::NS => RData::NS(NS(target)),
                RecordType::CNAME => RData::CNAME(CNAME(target)),
                RecordType::PTR => RData::PTR(PTR(target)),
                RecordType::ANAME => RData::ANAME(ANAME(target)),
                _ => dname_rdata(&target),
            }
        }
        RecordType::MX => {
            fields(2)?;
            RData::MX(MX::new(
                number(&tokens[0], "preference")?,
                name(&tokens[1])?,
            ))
        }
        RecordType::SRV => {
            fields(4)?;
            RData::SRV(SRV::new(
                number(&tokens[0], "priority")?,
                number(&tokens[1], "weight")?,
                number(&tokens[2], "port")?,
                name(&tokens[3])?,
            ))
        }
        RecordType::SOA => {
            fields(7)?;
            let serial = tokens[2]
                .text
                .parse::<u32>()
                .map_err(|_| format!("serial {:?} is not a number", tokens[2].text))?;
            let minimum = parse_ttl(tokens[6].text)
                .ok_or_else(|| format!("minimum {:?} is not a time interval", tokens[6].text))?;
            RData::SOA(SOA::new(
                name(&tokens[0])?,
                name(&tokens[1])?,
                serial,
                interval(&tokens[3], "refresh")?,
                interval(&tokens[4], "retry")?,
                interval(&tokens[5], "expire")?,
                minimum,
            ))
        }
        RecordType::TXT => {
            let strings = character_strings(tokens)?;
            RData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()))
        }
        RecordType::Unknown(TYPE_SPF) => {
            let mut wire = Vec::new();
            for string in character_strings(tokens)? {
                // At most 255 bytes: checked by character_strings.
                wire.push(string.len() as u8);
                wire.extend_from_slice(&string);
            }
            unknown(rtype, wire)
        }
        RecordType::Unknown(TYPE_RP) => {
            let [mailbox, text] = tokens else {
                return Err("expected MAILBOX-NAME TXT-NAME".into());
            };
            let mut wire = Vec::new();
            push_name(&name(mailbox)?, &mut wire);
            push_name(&name(text)?, &mut wire);
            unknown(rtype, wire)
        }
        RecordType::Unknown(TYPE_LOC) => unknown(rtype, loc::loc_rdata(tokens)?),
        RecordType::Unknown(TYPE_URI) => {
            let [priority, weight, target] = tokens else {
                return Err("expected PRIORITY WEIGHT \"TARGET\"".into());
            };
            let target = unescape(target.text)?;
            if target.is_empty() {
                return Err("the target is empty".into());
            }
            let mut wire = number(priority, "priority")?.to_be_bytes().to_vec();
            wire.extend_from_slice(&number(weight, "weight")?.to_be_bytes());
            wire.extend_from_slice(&target);
            unknown(rtype, wire)
        }
        RecordType::Unknown(code) => {
            return Err(format!(
                "type {code} is unknown: write its data as \\# LENGTH HEX (RFC 3597)"
            ))
        }
        RecordType::DS | RecordType::CDS => dnssec::ds_rdata(rtype, tokens)?,
        RecordType::DNSKEY | RecordType::CDNSKEY => dnssec::dnskey_rdata(rtype, tokens)?,
        RecordType::RRSIG => dnssec::rrsig_rdata(tokens, origin)?,
        RecordType::NSEC => dnssec::nsec_rdata(tokens, origin)?,
        RecordType::NSEC3 => dnssec::nsec3_rdata(tokens)?,
        RecordType::NSEC3PARAM => dnssec::nsec3param_rdata(tokens)?,
        _ => {
            if tokens.is_empty() {
                return Err("missing data".into());
            }
            // The domain name inside these types' data, made absolute here
            // because hickory's parser knows no origin.
            let name_at = match rtype {
                RecordType::SVCB | RecordType::HTTPS => Some(1),
                RecordType::NAPTR => Some(5),
                _ => None,
            };
            let text = join_tokens(tokens, |i, text, out| {
                if Some(i) == name_at {
                    let name = parse_name(text, origin).map_err(|e| e.to_string())?;
                    out.push_str(&name.to_string());
                } else {
                    out.push_str(text);
                }
                Ok(())
            })?;
            RData::try_from_str(rtype, &text).map_err(|e| {
                format!("{e} (data hickory cannot read may be written as \\# LENGTH HEX, RFC 3597)")
            })?
        }
    };
    Ok(rdata)
}

/// Tokens back into one line of master-file text with their quotes;
/// `write` appends the text of token `i` (to expand or qualify it).
fn join_tokens(
    tokens: &[Token<'_>],
    mut write: impl FnMut(usize, &str, &mut String) -> Result<(), String>,
) -> Result<String, String> {
    let mut out = String::new();
    for (i, token) in tokens.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if token.quoted {
            out.push('"');
        }
        write(i, token.text, &mut out)?;
        if token.quoted {
            out.push('"');
        }
    }
    Ok(out)
}

/// Character-strings (RFC 1035 3.3), each at most 255 bytes: TXT's data.
fn character_strings(tokens: &[Token<'_>]) -> Result<Vec<Vec<u8>>, String> {
    if tokens.is_empty() {
        return Err("expected at least one string".into());
    }
    let strings = tokens
        .iter()
        .map(|t| unescape(t.text))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(long) = strings.iter().find(|s| s.len() > 255) {
        return Err(format!(
            "a string of {} bytes is longer than 255 (split it into several)",
            long.len()
        ));
    }
    Ok(strings)
}

/// Appends the bytes of hex digits spread over `tokens`.
fn hex_into(tokens: &[Token<'_>], out: &mut Vec<u8>) -> Result<(), String> {
    for token in tokens {
        let digits = token.text.as_bytes();
        if digits.len() % 2 != 0 {
            return Err(format!("{:?} is not whole hex bytes", token.text));
        }
        for pair in digits.chunks(2) {
            let byte = std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("{:?} is not hex", token.text))?;
            out.push(byte);
        }
    }
    Ok(())
}

/// RFC 3597 5: `\# LENGTH HEX...`. Known types are decoded into their
/// usual variant (so `A \# 4 c0000201` is an A record); unknown ones are
/// kept as opaque bytes.
fn parse_generic_rdata(rtype: RecordType, tokens: &[Token<'_>]) -> Result<RData, String> {
    let (length, hex) = tokens
        .split_first()
        .ok_or("\\# must be followed by the data length")?;
    let length: u16 = length
        .text
        .parse()
        .map_err(|_| format!("\\# length {:?} is not a number 0-65535", length.text))?;
    let mut bytes = Vec::with_capacity(usize::from(length));
    hex_into(hex, &mut bytes)?;
    if bytes.len() != usize::from(length) {
        return Err(format!(
            "\\# says {length} bytes but {} follow",
            bytes.len()
        ));
    }
    if matches!(rtype, RecordType::Unknown(_) | RecordType::DNAME) {
        if rtype == RecordType::DNAME && dname_target(&unknown(rtype, bytes.clone())).is_none() {
            return Err("the data is not an uncompressed domain name".into());
        }
        return Ok(unknown(rtype, bytes));
    }
    let mut decoder = BinDecoder::new(&bytes);
    let rdata = RData::read(&mut decoder, rtype, Restrict::new(length))
        .map_err(|e| format!("the data is not valid {rtype} wire format: {e}"))?;
    if !decoder.is_empty() {
        return Err(format!(
            "{} bytes left over after the {rtype} data",
            decoder.len()
        ));
    }
    Ok(rdata)
}

/// Data of a type we keep as wire bytes (DNAME, DS, RFC 3597 types).
pub(crate) fn unknown(code: RecordType, bytes: Vec<u8>) -> RData {
    // `NULL::with` insists on data; RFC 3597 allows `\# 0`.
    let rdata = if bytes.is_empty() {
        NULL::new()
    } else {
        NULL::with(bytes)
    };
    RData::Unknown { code, rdata }
}

/// The bytes of a character-string, escapes decoded (see
/// [`for_each_byte`]).
fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    for_each_byte(text, |byte, _| {
        out.push(byte);
        Ok(())
    })?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// $GENERATE.

/// `start-stop[/step]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GenerateRange {
    start: u32,
    stop: u32,
    step: u32,
}

impl GenerateRange {
    fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("range {text:?} is not START-STOP[/STEP]");
        let (range, step) = match text.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().map_err(|_| bad())?),
            None => (text, 1),
        };
        let (start, stop) = range.split_once('-').ok_or_else(bad)?;
        let start = start.parse::<u32>().map_err(|_| bad())?;
        let stop = stop.parse::<u32>().map_err(|_| bad())?;
        if start > stop || step == 0 {
            return Err(format!(
                "range {text:?} must have START <= STOP and STEP > 0"
            ));
        }
        Ok(GenerateRange { start, stop, step })
    }
}

/// Appends `template` with BIND's `$GENERATE` substitutions for `value`:
/// `$` is the value, `${offset[,width[,base]]}` formats it, `$$` and `\$`
/// are a literal `$`.
fn expand_generate(template: &str, value: u32, out: &mut String) -> Result<(), String> {
    let mut rest = template;
    while let Some(at) = rest.find(['$', '\\']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("\\$") {
            out.push('$');
            rest = after;
        } else if let Some(after) = tail.strip_prefix('\\') {
            // Other escapes belong to the name or string: keep them.
            out.push('\\');
            let mut chars = after.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
        } else if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let (spec, after) = after
                .split_once('}')
                .ok_or_else(|| format!("unterminated ${{ in {template:?}"))?;
            format_generate(spec, value, out)?;
            rest = after;
        } else {
            out.push_str(&value.to_string());
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(())
}

/// `offset[,width[,base]]` with base one of d, o, x, X, n, N (BIND).
fn format_generate(spec: &str, value: u32, out: &mut String) -> Result<(), String> {
    let bad = || format!("bad modifier ${{{spec}}}: expected ${{offset[,width[,base]]}}");
    let mut parts = spec.split(',');
    let offset: i64 = parts
        .next()
        .unwrap_or("0")
        .trim()
        .parse()
        .map_err(|_| bad())?;
    let width: usize = match parts.next() {
        Some(w) => w.trim().parse().map_err(|_| bad())?,
        None => 0,
    };
    let base = match parts.next() {
        Some(b) if b.len() == 1 => b.as_bytes()[0],
        Some(_) => return Err(bad()),
        None => b'd',
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    // A name is at most 255 octets: a wider field is a typo, and an
    // unbounded one would allocate whatever the zone file asks for.
    if width > MAX_GENERATE_WIDTH {
        return Err(bad());
    }
    let value = i64::from(value).checked_add(offset).ok_or_else(bad)?;
    if value < 0 {
        return Err(format!("${{{spec}}} gives a negative number"));
    }
    let formatted = match base {
        b'd' => format!("{value:0width$}"),
        b'o' => format!("{value:0width$o}"),
        b'x' => format!("{value:0width$x}"),
        b'X' => format!("{value:0width$X}"),
        b'n' | b'N' => nibbles(value as u64, width, base == b'N'),
        _ => return Err(bad()),
    };
    out.push_str(&formatted);
    Ok(())
}

/// BIND's nibble format: hex digits lowest first, dot-separated, padded
/// to `width` characters (dots included), as in `ip6.arpa` names.
fn nibbles(mut value: u64, mut width: usize, upper: bool) -> String {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = String::new();
    loop {
        out.push(char::from(digits[(value & 0xf) as usize]));
        value >>= 4;
        width = width.saturating_sub(1);
        if width > 0 || value != 0 {
            out.push('.');
            width = width.saturating_sub(1);
        }
        if value == 0 && width == 0 {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Lexed = Vec<(Entry, Vec<(String, bool)>)>;

    fn lex_all(src: &str) -> Result<Lexed, (u32, String)> {
        let mut lexer = Lexer::new(src);
        let mut tokens = Vec::new();
        let mut out = Vec::new();
        loop {
            match lexer.next_entry(&mut tokens) {
                Ok(Some(entry)) => out.push((
                    entry,
                    tokens
                        .iter()
                        .map(|t| (t.text.to_string(), t.quoted))
                        .collect(),
                )),
                Ok(None) => return Ok(out),
                Err((line, kind)) => return Err((line, kind.to_string())),
            }
        }
    }

    fn texts(entry: &(Entry, Vec<(String, bool)>)) -> Vec<&str> {
        entry.1.iter().map(|(t, _)| t.as_str()).collect()
    }

    #[test]
    fn parentheses_join_lines_and_comments_vanish() {
        let entries = lex_all(
            "@ IN SOA ns1 host ( ; comment\n  1 ; serial\n 2 3 4\n 5 )\n\n; only a comment\nwww A 192.0.2.1\n",
        )
        .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].0,
            Entry {
                line: 1,
                blank_owner: false
            }
        );
        assert_eq!(
            texts(&entries[0]),
            ["@", "IN", "SOA", "ns1", "host", "1", "2", "3", "4", "5"]
        );
        assert_eq!(
            entries[1].0,
            Entry {
                line: 7,
                blank_owner: false
            }
        );
    }

    #[test]
    fn quoted_strings_keep_semicolons_and_escapes() {
        let entries = lex_all("t TXT \"a;b\" \"say \\\"hi\\\"\" c\\;d\n").unwrap();
        assert_eq!(
            entries[0].1,
            [
                ("t".to_string(), false),
                ("TXT".to_string(), false),
                ("a;b".to_string(), true),
                ("say \\\"hi\\\"".to_string(), true),
                ("c\\;d".to_string(), false),
            ]
        );
        assert_eq!(unescape("say \\\"hi\\\" \\065").unwrap(), b"say \"hi\" A");
    }

    #[test]
    fn leading_blank_means_previous_owner() {
        let entries = lex_all("a A 192.0.2.1\n\tA 192.0.2.2\n").unwrap();
        assert!(!entries[0].0.blank_owner);
        assert!(entries[1].0.blank_owner);
        assert_eq!(texts(&entries[1]), ["A", "192.0.2.2"]);
    }

    #[test]
    fn lexer_errors_carry_their_line() {
        assert_eq!(lex_all("a A 1\nb TXT (\n\"x\"\n").unwrap_err().0, 2);
        assert_eq!(lex_all("a A 1\n\nb TXT \"x\n").unwrap_err().0, 3);
        assert_eq!(lex_all("a A 1 )\n").unwrap_err().0, 1);
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("3600"), Some(3600));
        assert_eq!(parse_ttl("1h30m"), Some(5400));
        assert_eq!(
            parse_ttl("1W2d3H4m5S"),
            Some(604_800 + 2 * 86_400 + 3 * 3600 + 4 * 60 + 5)
        );
        assert_eq!(parse_ttl("1h30"), Some(3630));
        assert_eq!(parse_ttl("h"), None);
        assert_eq!(parse_ttl("1x"), None);
        assert_eq!(parse_ttl("4294967296"), None);
        assert_eq!(parse_ttl(""), None);
        // Many large terms must fail cleanly, not overflow the sum.
        assert_eq!(parse_ttl(&"4294967295w".repeat(10_000)), None);
        assert_eq!(parse_ttl("4294967295s1s"), None);
    }

    #[test]
    fn types_and_classes() {
        assert_eq!(parse_type("A"), Some(RecordType::A));
        assert_eq!(parse_type("aaaa"), Some(RecordType::AAAA));
        assert_eq!(parse_type("TYPE65534"), Some(RecordType::Unknown(65534)));
        assert_eq!(parse_type("type1"), Some(RecordType::A));
        assert_eq!(parse_type("BOGUS"), None);
        assert_eq!(parse_class("CLASS1"), Some(DNSClass::IN));
        assert_eq!(parse_class("in"), Some(DNSClass::IN));
        assert_eq!(parse_class("CLASS"), None);
    }

    #[test]
    fn generate_substitutions() {
        let expand = |t: &str, v: u32| {
            let mut s = String::new();
            expand_generate(t, v, &mut s).map(|()| s)
        };
        assert_eq!(expand("host$", 7).unwrap(), "host7");
        assert_eq!(expand("${10,3,d}", 7).unwrap(), "017");
        assert_eq!(expand("${0,4,x}.${0,0,X}", 255).unwrap(), "00ff.FF");
        assert_eq!(expand("${0,3,o}", 8).unwrap(), "010");
        assert_eq!(expand("$$ \\$ $", 1).unwrap(), "$ $ 1");
        assert_eq!(expand("${-1}", 5).unwrap(), "4");
        assert_eq!(expand("${0,0,n}", 0x1a).unwrap(), "a.1");
        assert_eq!(expand("${0,7,n}", 0x1a).unwrap(), "a.1.0.0");
        assert!(expand("${1,2", 1).is_err());
        assert!(expand("${-9}", 1).is_err());
        // Zone-file numbers that would overflow or allocate without bound.
        assert!(expand("${9223372036854775807}", 1).is_err());
        assert!(expand("${0,99999999999}", 1).is_err());
        assert!(expand("${0,4294967295,n}", 1).is_err());
    }

    /// Reads master-file text as if it were the file `test.zone`.
    fn read_str(text: &str, origin: Option<Name>) -> Result<Vec<SourcedRecord>, ReadError> {
        let mut records = Vec::new();
        let mut reader = Reader::new(origin.clone(), &mut records);
        reader.read_source(text, Arc::new(PathBuf::from("test.zone")), origin)?;
        Ok(records)
    }

    #[test]
    fn generate_refuses_ranges_that_would_exhaust_memory() {
        let origin = Name::from_ascii("example.com.").unwrap();
        let err = read_str(
            "$GENERATE 0-4000000000 h$ A 10.0.0.1\n",
            Some(origin.clone()),
        )
        .unwrap_err();
        assert_eq!(err.location.line, 1);
        assert!(
            matches!(err.kind, ReadErrorKind::BadDirective { .. }),
            "{err}"
        );
        let records = read_str("$TTL 1\n$GENERATE 0-1000/500 h$ A 10.0.0.1\n", Some(origin));
        assert_eq!(records.unwrap().len(), 3);
    }

    #[test]
    fn generate_ranges() {
        assert_eq!(
            GenerateRange::parse("1-10/3").unwrap(),
            GenerateRange {
                start: 1,
                stop: 10,
                step: 3
            }
        );
        assert!(GenerateRange::parse("10-1").is_err());
        assert!(GenerateRange::parse("1-10/0").is_err());
        assert!(GenerateRange::parse("x").is_err());
    }

    #[test]
    fn names_are_completed_with_the_origin() {
        let origin = Name::from_ascii("example.com.").unwrap();
        let name = |t: &str| parse_name(t, Some(&origin)).unwrap().to_string();
        assert_eq!(name("@"), "example.com.");
        assert_eq!(name("www"), "www.example.com.");
        assert_eq!(name("other.org."), "other.org.");
        // RFC 1035 5.1: \DDD is the byte DDD, \X is X.
        assert_eq!(name("dec\\065"), "decA.example.com.");
        let dotted = parse_name("a\\.b", Some(&origin)).unwrap();
        assert_eq!(dotted.num_labels(), 3, "one label holding a dot");
        assert!(matches!(
            parse_name("www", None),
            Err(ReadErrorKind::NoOrigin(_))
        ));
    }

    /// The wire bytes of the one record `line` (in example.com.) holds.
    fn wire_of(line: &str) -> Result<(RecordType, Vec<u8>), String> {
        let origin = Name::from_ascii("example.com.").unwrap();
        let records =
            read_str(&format!("$TTL 60\n{line}\n"), Some(origin)).map_err(|e| e.to_string())?;
        match &records[..] {
            [one] => match &one.record.data {
                RData::Unknown { code, rdata } => Ok((*code, rdata.anything.to_vec())),
                other => Err(format!("not kept as wire bytes: {other:?}")),
            },
            _ => Err(format!("{} records", records.len())),
        }
    }

    #[test]
    fn types_hickory_cannot_read_are_kept_as_their_wire_bytes() {
        let name = |labels: &[&str]| {
            let mut wire = Vec::new();
            for label in labels {
                wire.push(label.len() as u8);
                wire.extend_from_slice(label.as_bytes());
            }
            wire.push(0);
            wire
        };
        let rp = [name(&["admin", "example", "com"]), name(&["txt", "other"])].concat();
        assert_eq!(
            wire_of("@ RP admin txt.other."),
            Ok((RecordType::from(17), rp))
        );
        assert_eq!(
            wire_of("@ SPF \"v=spf1\" \"-all\""),
            Ok((RecordType::from(99), b"\x06v=spf1\x04-all".to_vec()))
        );
        let uri = [&[0, 10, 0, 1][..], b"https://a/"].concat();
        assert_eq!(
            wire_of("@ URI 10 1 \"https://a/\""),
            Ok((RecordType::from(256), uri))
        );
        let key = [&[0x01, 0x01, 3, 13][..], b"key"].concat();
        for rtype in [RecordType::DNSKEY, RecordType::CDNSKEY] {
            // "a2V5" is base64 for "key"; it may be split into several tokens.
            assert_eq!(
                wire_of(&format!("@ {rtype} 257 3 13 a2 V5")),
                Ok((rtype, key.clone()))
            );
        }
        assert_eq!(
            wire_of("@ CDS 12345 13 2 AB CD"),
            Ok((RecordType::CDS, vec![0x30, 0x39, 13, 2, 0xAB, 0xCD]))
        );
        for bad in [
            "@ RP admin",
            "@ URI 10 1 \"\"",
            "@ URI 10 \"https://a/\"",
            "@ DNSKEY 257 3 13 not*base64",
            "@ DNSKEY 257 3 13",
            "@ DNSKEY 65536 3 13 a2V5",
            "@ SPF",
        ] {
            assert!(wire_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dnssec_records_of_signed_zones_are_kept_as_their_wire_bytes() {
        let example_com = b"\x07example\x03com\x00";
        let mut rrsig = vec![0, 1, 13, 2, 0, 0, 1, 0x2c];
        rrsig.extend_from_slice(&2_111_702_400u32.to_be_bytes());
        rrsig.extend_from_slice(&1_796_083_200u32.to_be_bytes());
        rrsig.extend_from_slice(&[0x30, 0x39]);
        rrsig.extend_from_slice(example_com);
        rrsig.extend_from_slice(b"key");
        // The signature may be split over lines, inside parentheses.
        assert_eq!(
            wire_of("@ RRSIG A 13 2 300 20361201000000 20261201000000 12345 @ (\n a2\n V5 )"),
            Ok((RecordType::RRSIG, rrsig))
        );
        let nsec = [
            &b"\x03www"[..],
            example_com,
            &[0, 6, 0x40, 0, 0, 0, 0, 0x03],
        ]
        .concat();
        assert_eq!(
            wire_of("@ NSEC www A RRSIG NSEC"),
            Ok((RecordType::NSEC, nsec))
        );
        // RFC 5155 appendix A's first NSEC3 record.
        let next = [
            23, 78, 178, 64, 159, 226, 139, 203, 72, 135, 161, 131, 111, 149, 127, 10, 132, 37,
            226, 123,
        ];
        let nsec3 = [
            &[1, 1, 0, 12, 4, 0xaa, 0xbb, 0xcc, 0xdd, 20][..],
            &next,
            &[0, 7, 0x22, 0x01, 0, 0, 0, 0x02, 0x90],
        ]
        .concat();
        assert_eq!(
            wire_of("@ NSEC3 1 1 12 aabbccdd ( 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG )"),
            Ok((RecordType::NSEC3, nsec3))
        );
        assert_eq!(
            wire_of("@ NSEC3PARAM 1 0 0 -"),
            Ok((RecordType::NSEC3PARAM, vec![1, 0, 0, 0, 0]))
        );
        for bad in [
            "@ RRSIG A 13 2 300 20361301000000 20261201000000 12345 @ a2V5",
            "@ RRSIG A 13 2 300 20361201000000 20261201000000 12345 @",
            "@ RRSIG NOSUCH 13 2 300 20361201000000 20261201000000 12345 @ a2V5",
            "@ NSEC",
            "@ NSEC www A BOGUS",
            "@ NSEC3 1 1 12 aabbccdd not-base32hex A",
            "@ NSEC3PARAM 1 0 0",
            "@ NSEC3PARAM 1 0 0 xyz",
        ] {
            assert!(wire_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generic_rdata_decodes_known_types() {
        let tok = |t: &'static str| Token::bare(t);
        let a = parse_generic_rdata(RecordType::A, &[tok("4"), tok("c0"), tok("000201")]).unwrap();
        assert_eq!(a, RData::A(A::new(192, 0, 2, 1)));
        let unknown = parse_generic_rdata(RecordType::Unknown(65534), &[tok("2"), tok("abcd")]);
        assert_eq!(
            unknown.unwrap(),
            super::unknown(RecordType::Unknown(65534), vec![0xab, 0xcd])
        );
        assert!(parse_generic_rdata(RecordType::A, &[tok("3"), tok("c00002")]).is_err());
        assert!(parse_generic_rdata(RecordType::A, &[tok("4"), tok("c00002")]).is_err());
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

    #[test]
    fn include_of_a_device_is_an_error_not_an_endless_read() {
        let dir = std::env::temp_dir().join(format!("dnslab-reader-dev-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("zero.zone");
        std::fs::write(
            &path,
            "$ORIGIN example.com.\n$TTL 300\n@ SOA ns hm 1 2 3 4 5\n$INCLUDE /dev/zero\n",
        )
        .expect("write zone");
        let err = read_file(&path, None).expect_err("a device is refused");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert_eq!(err.location.line, 4, "{err}");
    }
}
