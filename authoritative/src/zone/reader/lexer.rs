//! The lexer of master files (RFC 1035 5.1): lines, parentheses, quoted
//! strings and comments, split into entries of tokens without copying;
//! and tokens joined back into a line ([`join_tokens`]), for `$GENERATE`
//! and for the record data hickory-proto reads from text.
//!
//! It knows no directive and no column: the reader ([`super`]) decides
//! what each entry is, [`super::columns`] reads the owner, TTL, class and
//! type tokens, and [`super::rdata`] the rest.

use super::ReadErrorKind;

/// One token of an entry. Escapes (`\.`, `\DDD`, `\"`) are left in `text`
/// for whoever interprets the token; `quoted` tokens are the inside of a
/// `"..."` string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Token<'a> {
    pub(super) text: &'a str,
    pub(super) quoted: bool,
}

impl<'a> Token<'a> {
    pub(super) fn bare(text: &'a str) -> Self {
        Token {
            text,
            quoted: false,
        }
    }
}

/// The start of one logical entry (a line, or several joined by
/// parentheses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) line: u32,
    /// The entry's line begins with blank space: the owner is omitted and
    /// is the previous record's (RFC 1035 5.1).
    pub(super) blank_owner: bool,
}

/// Splits master-file text into entries of tokens without copying.
pub(super) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    pub(super) line: u32,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            line: 1,
        }
    }

    /// Reads the next non-empty entry's tokens into `out` (cleared first);
    /// `None` at end of input. Errors carry their line.
    pub(super) fn next_entry(
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

/// Tokens back into one line of master-file text with their quotes;
/// `write` appends the text of token `i` (to expand or qualify it).
pub(super) fn join_tokens(
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

#[cfg(test)]
mod tests {
    use super::super::rdata::unescape;
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
}
