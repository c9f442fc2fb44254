//! The directives of RFC 1035 5.1: `$ORIGIN`, `$TTL` and `$INCLUDE`;
//! BIND's `$GENERATE` has a file of its own ([`super::generate`]).
//!
//! The reader ([`super`]) hands every entry that starts with `$` here;
//! `$INCLUDE` reads the named file back through the reader, with its own
//! `$ORIGIN` and previous owner.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hickory_proto::rr::Name;

use super::columns::parse_name;
use super::lexer::Token;
use super::{read_text, FileState, ReadErrorKind, Reader, MAX_INCLUDE_DEPTH};

impl Reader<'_> {
    /// `$ORIGIN`, `$TTL`, `$INCLUDE` (RFC 1035 5.1) and BIND's `$GENERATE`.
    pub(super) fn directive(
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
}

#[cfg(test)]
mod tests {
    use super::super::read_master_file;

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
        let err = read_master_file(&path, None).expect_err("a device is refused");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert_eq!(err.location.line, 4, "{err}");
    }
}
