//! BIND's key files, as `tsig-keygen` writes them and `named.conf`,
//! `nsupdate -k` and `dig -k` read them:
//!
//! ```text
//! key "transfer.example" {
//!     algorithm hmac-sha256;
//!     secret "sxxbTbF0fZ5SAcswZgMJuG1uWJKPvT/QADP8akrBQ0E=";
//! };
//! ```
//!
//! One or more `key` statements, with `//`, `#` and `/* */` comments; the
//! name and values quoted or not. Anything else (an `options` block, a
//! clause other than `algorithm` and `secret`) is an error rather than
//! silently ignored, since a key file that does not say what its author
//! meant would decide who may transfer or change zones. Every error
//! carries the file and line.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use crate::key::KeyError;
use crate::{Key, KeyRing};

/// A key file that cannot be used, and where.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{file}: cannot read key file: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {problem}")]
    Syntax {
        file: String,
        line: usize,
        problem: Problem,
    },
}

/// What is wrong at a line of a key file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("string not closed by '\"' before the end of the file")]
    UnterminatedString,
    #[error("comment '/*' not closed by '*/' before the end of the file")]
    UnterminatedComment,
    #[error("expected {expected}, found {found}")]
    Expected {
        expected: &'static str,
        found: String,
    },
    #[error("'{0}' statement: a key file holds only key statements (key \"name\" {{ algorithm ...; secret \"...\"; }};)")]
    NotAKey(String),
    #[error("unknown clause '{0}' in a key statement (only algorithm and secret)")]
    UnknownClause(String),
    #[error("{0} given twice in one key statement")]
    DuplicateClause(&'static str),
    #[error("key \"{key}\" has no {clause} (add: {example})")]
    MissingClause {
        key: String,
        clause: &'static str,
        example: &'static str,
    },
    #[error("key \"{name}\" is already defined at line {first_line}")]
    DuplicateKey { name: String, first_line: usize },
    #[error("key \"{name}\" is already defined in another key file")]
    AlreadyLoaded { name: String },
    #[error("key \"{name}\": {error}")]
    BadKey { name: String, error: KeyError },
    #[error("no key statement in the file")]
    NoKeys,
}

impl Key {
    /// The key as a BIND key file, as `tsig-keygen` writes one: what
    /// `nsupdate -k` and [`KeyRing::add_file`] read (a truncated key's
    /// algorithm as `hmac-sha256-128`).
    pub fn to_key_file(&self) -> String {
        let algorithm = self.algorithm();
        let algorithm = match self.mac_len() * 8 {
            bits if self.mac_len() < algorithm.output_len() => {
                format!("{}-{bits}", algorithm.name())
            }
            _ => algorithm.name().to_string(),
        };
        format!(
            "key \"{}\" {{\n\talgorithm {algorithm};\n\tsecret \"{}\";\n}};\n",
            self.name().trim_end_matches('.'),
            data_encoding::BASE64.encode(self.secret())
        )
    }
}

impl KeyRing {
    /// The keys of the BIND key file at `path`.
    pub fn from_file(path: &Path) -> Result<KeyRing, KeyFileError> {
        let mut ring = KeyRing::new();
        ring.add_file(path)?;
        Ok(ring)
    }

    /// Adds the keys of the BIND key file at `path`; a key already in the
    /// ring (from another file) is an error, not a silent replacement.
    pub fn add_file(&mut self, path: &Path) -> Result<(), KeyFileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
            file: file.clone(),
            source,
        })?;
        self.add_text(&text, &file)
    }

    /// Adds the keys of key-file text; `file` names it in errors.
    pub fn add_text(&mut self, text: &str, file: &str) -> Result<(), KeyFileError> {
        let error = |line, problem| KeyFileError::Syntax {
            file: file.to_string(),
            line,
            problem,
        };
        let tokens = tokenize(text).map_err(|(line, problem)| error(line, problem))?;
        let keys = parse(&tokens).map_err(|(line, problem)| error(line, problem))?;
        if keys.is_empty() {
            return Err(error(1, Problem::NoKeys));
        }
        // Check every key before adding any, so that a bad file leaves the
        // ring as it was.
        let mut first_lines = HashMap::new();
        for (line, key) in &keys {
            let name = key.name().trim_end_matches('.').to_string();
            if let Some(&first_line) = first_lines.get(key.name()) {
                return Err(error(*line, Problem::DuplicateKey { name, first_line }));
            }
            if self.get(key.name()).is_some() {
                return Err(error(*line, Problem::AlreadyLoaded { name }));
            }
            first_lines.insert(key.name(), *line);
        }
        for (_, key) in keys {
            self.insert(key);
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
    Semicolon,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => write!(f, "'{w}'"),
            Token::Quoted(_) => f.write_str("a quoted string"),
            Token::Open => f.write_str("'{'"),
            Token::Close => f.write_str("'}'"),
            Token::Semicolon => f.write_str("';'"),
        }
    }
}

type Located<T> = Result<T, (usize, Problem)>;

/// The tokens of `text` with their line numbers, comments dropped.
fn tokenize(text: &str) -> Located<Vec<(usize, Token)>> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '#' => skip_line(&mut chars, &mut line),
            '/' if chars.peek() == Some(&'/') => skip_line(&mut chars, &mut line),
            '/' if chars.peek() == Some(&'*') => {
                let start = line;
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\n' => line += 1,
                        '*' if chars.peek() == Some(&'/') => {
                            chars.next();
                            closed = true;
                            break;
                        }
                        _ => {}
                    }
                }
                if !closed {
                    return Err((start, Problem::UnterminatedComment));
                }
            }
            '{' => tokens.push((line, Token::Open)),
            '}' => tokens.push((line, Token::Close)),
            ';' => tokens.push((line, Token::Semicolon)),
            '"' => {
                let start = line;
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => return Err((start, Problem::UnterminatedString)),
                        Some('"') => break,
                        Some('\\') => value.extend(chars.next()),
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            value.push(c);
                        }
                    }
                }
                tokens.push((start, Token::Quoted(value)));
            }
            c => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if next.is_whitespace() || "{};\"#".contains(next) {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
                tokens.push((line, Token::Word(word)));
            }
        }
    }
    Ok(tokens)
}

fn skip_line(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, line: &mut usize) {
    for c in chars.by_ref() {
        if c == '\n' {
            *line += 1;
            return;
        }
    }
}

/// Reads tokens one at a time, knowing the line of the last one for
/// errors at the end of the file.
struct Cursor<'a> {
    tokens: std::slice::Iter<'a, (usize, Token)>,
    last_line: usize,
}

impl<'a> Cursor<'a> {
    fn next(&mut self, expected: &'static str) -> Located<(usize, &'a Token)> {
        match self.tokens.next() {
            Some((line, token)) => {
                self.last_line = *line;
                Ok((*line, token))
            }
            None => Err((
                self.last_line,
                Problem::Expected {
                    expected,
                    found: "the end of the file".into(),
                },
            )),
        }
    }

    /// A word or a quoted string: a name or a value.
    fn value(&mut self, expected: &'static str) -> Located<(usize, &'a str)> {
        match self.next(expected)? {
            (line, Token::Word(s) | Token::Quoted(s)) => Ok((line, s)),
            (line, other) => Err(expected_here(line, expected, other)),
        }
    }

    fn punct(&mut self, want: Token, expected: &'static str) -> Located<()> {
        match self.next(expected)? {
            (_, token) if *token == want => Ok(()),
            (line, other) => Err(expected_here(line, expected, other)),
        }
    }
}

fn expected_here(line: usize, expected: &'static str, found: &Token) -> (usize, Problem) {
    (
        line,
        Problem::Expected {
            expected,
            found: found.to_string(),
        },
    )
}

/// `key NAME { algorithm ALG; secret SECRET; };` statements, each with the
/// line it starts on.
fn parse(tokens: &[(usize, Token)]) -> Located<Vec<(usize, Key)>> {
    let mut cursor = Cursor {
        tokens: tokens.iter(),
        last_line: 1,
    };
    let mut keys = Vec::new();
    while cursor.tokens.len() > 0 {
        let (line, keyword) = cursor.next("'key'")?;
        match keyword {
            Token::Word(w) if w.eq_ignore_ascii_case("key") => {}
            Token::Word(w) => return Err((line, Problem::NotAKey(w.clone()))),
            other => return Err(expected_here(line, "'key'", other)),
        }
        let (_, name) = cursor.value("the key's name")?;
        cursor.punct(Token::Open, "'{' after the key's name")?;
        let mut algorithm = None;
        let mut secret = None;
        loop {
            let (clause_line, token) = cursor.next("'algorithm', 'secret' or '}'")?;
            let (slot, what, after) = match token {
                Token::Close => break,
                Token::Word(w) if w.eq_ignore_ascii_case("algorithm") => {
                    (&mut algorithm, "algorithm", "';' after the algorithm")
                }
                Token::Word(w) if w.eq_ignore_ascii_case("secret") => {
                    (&mut secret, "secret", "';' after the secret")
                }
                Token::Word(w) => return Err((clause_line, Problem::UnknownClause(w.clone()))),
                other => {
                    return Err(expected_here(
                        clause_line,
                        "'algorithm', 'secret' or '}'",
                        other,
                    ))
                }
            };
            if slot.is_some() {
                return Err((clause_line, Problem::DuplicateClause(what)));
            }
            let (value_line, value) = cursor.value(if what == "secret" {
                "the secret in base64"
            } else {
                "an algorithm name such as hmac-sha256"
            })?;
            *slot = Some((value_line, value));
            cursor.punct(Token::Semicolon, after)?;
        }
        cursor.punct(Token::Semicolon, "';' after the key statement's '}'")?;
        let missing = |clause, example| {
            (
                line,
                Problem::MissingClause {
                    key: name.to_string(),
                    clause,
                    example,
                },
            )
        };
        let (alg_line, alg) =
            algorithm.ok_or_else(|| missing("algorithm", "algorithm hmac-sha256;"))?;
        let (secret_line, secret) = secret
            .ok_or_else(|| missing("secret", "secret \"<base64>\"; as tsig-keygen prints it"))?;
        let key = Key::from_text(name, alg, secret).map_err(|error| {
            // Point at the line of the value the error is about.
            let at = match error {
                KeyError::UnknownAlgorithm(_) | KeyError::BadTruncation { .. } => alg_line,
                KeyError::BadSecret(_) | KeyError::EmptySecret => secret_line,
                KeyError::BadName { .. } | KeyError::BadSpec => line,
            };
            (
                at,
                Problem::BadKey {
                    name: name.to_string(),
                    error,
                },
            )
        })?;
        keys.push((line, key));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Algorithm;

    fn problem(text: &str) -> (usize, Problem) {
        match KeyRing::new().add_text(text, "keys.conf") {
            Err(KeyFileError::Syntax { line, problem, .. }) => (line, problem),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    /// What `tsig-keygen` printed for three keys (testdata/tsig-keygen.conf).
    #[test]
    fn reads_what_tsig_keygen_writes() {
        let text = include_str!("../testdata/tsig-keygen.conf");
        let mut ring = KeyRing::new();
        ring.add_text(text, "tsig-keygen.conf").unwrap();
        assert_eq!(ring.len(), 3);
        let transfer = ring.get("transfer.example").unwrap();
        assert_eq!(transfer.name(), "transfer.example.");
        assert_eq!(transfer.algorithm(), Algorithm::HmacSha256);
        assert_eq!(transfer.secret().len(), 32);
        let update = ring.get("update-key.").unwrap();
        assert_eq!(update.name(), "update-key.");
        assert_eq!(update.algorithm(), Algorithm::HmacSha512);
        assert_eq!(update.secret().len(), 64);
        assert_eq!(ring.get("LEGACY").unwrap().algorithm(), Algorithm::HmacSha1);
    }

    #[test]
    fn keys_write_the_files_they_are_read_from() {
        for spec in [
            "hmac-sha256:Registrar.Lab:c2VjcmV0c2VjcmV0c2VjcmV0",
            "hmac-sha512-256:t:c2VjcmV0c2VjcmV0c2VjcmV0",
        ] {
            let key = Key::from_dig_spec(spec).unwrap();
            let mut ring = KeyRing::new();
            ring.add_text(&key.to_key_file(), "written").unwrap();
            assert_eq!(ring.get(key.name()).map(|k| &**k), Some(&key), "{spec}");
        }
        let key = Key::from_dig_spec("hmac-sha256:ddns:c2VjcmV0").unwrap();
        assert_eq!(
            key.to_key_file(),
            "key \"ddns\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0\";\n};\n"
        );
    }

    #[test]
    fn comments_unquoted_values_and_truncated_algorithms() {
        let text = r#"
            # a shell-style comment
            // a C++-style comment
            /* a C-style comment
               over two lines; key "not-a-key" { }; */
            key one { algorithm "hmac-sha384"; secret c2VjcmV0; };
            key "Two.Example." {
                secret "c2Vj
                        cmV0";   // whitespace in a secret is ignored
                algorithm hmac-sha256-128; /* truncated MAC */
            };"#;
        let mut ring = KeyRing::new();
        ring.add_text(text, "keys.conf").unwrap();
        assert_eq!(ring.len(), 2);
        let one = ring.get("one").unwrap();
        assert_eq!(
            (one.algorithm(), one.secret()),
            (Algorithm::HmacSha384, &b"secret"[..])
        );
        let two = ring.get("two.example").unwrap();
        assert_eq!(
            (two.algorithm(), two.mac_len()),
            (Algorithm::HmacSha256, 16)
        );
        assert_eq!(two.secret(), b"secret");
    }

    #[test]
    fn every_error_names_its_line() {
        let cases: &[(&str, usize, Problem)] = &[
            ("key \"k\" {\n algorithm hmac-sha256;\n secret \"c2Vj;\n};", 3, Problem::UnterminatedString),
            ("key k {\n/* never closed\n", 2, Problem::UnterminatedComment),
            ("options {\n};", 1, Problem::NotAKey("options".into())),
            (
                "key k {\n algorithm hmac-sha256;\n sercet \"c2VjcmV0\";\n};",
                3,
                Problem::UnknownClause("sercet".into()),
            ),
            (
                "key k {\n algorithm hmac-sha256;\n algorithm hmac-sha1;\n};",
                3,
                Problem::DuplicateClause("algorithm"),
            ),
            (
                "key k {\n algorithm hmac-sha256\n secret \"c2VjcmV0\";\n};",
                3,
                Problem::Expected {
                    expected: "';' after the algorithm",
                    found: "'secret'".into(),
                },
            ),
            (
                "key k {\n algorithm hmac-sha256;\n secret \"c2VjcmV0\";\n}\nkey",
                5,
                Problem::Expected {
                    expected: "';' after the key statement's '}'",
                    found: "'key'".into(),
                },
            ),
            (
                "key k {\n algorithm hmac-sha256;\n secret \"c2VjcmV0\";\n",
                3,
                Problem::Expected {
                    expected: "'algorithm', 'secret' or '}'",
                    found: "the end of the file".into(),
                },
            ),
            (
                "\nkey k {\n secret \"c2VjcmV0\";\n};",
                2,
                Problem::MissingClause {
                    key: "k".into(),
                    clause: "algorithm",
                    example: "algorithm hmac-sha256;",
                },
            ),
            (
                "key k {\n algorithm hmac-sha256;\n};",
                1,
                Problem::MissingClause {
                    key: "k".into(),
                    clause: "secret",
                    example: "secret \"<base64>\"; as tsig-keygen prints it",
                },
            ),
            (
                "key k {\n algorithm hmac-md5;\n secret \"c2VjcmV0\";\n};",
                2,
                Problem::BadKey {
                    name: "k".into(),
                    error: KeyError::UnknownAlgorithm("hmac-md5".into()),
                },
            ),
            (
                "key k {\n algorithm hmac-sha256;\n\n secret \"c2Vj*mV0\";\n};",
                4,
                Problem::BadKey {
                    name: "k".into(),
                    error: KeyError::BadSecret(
                        "invalid symbol at 4".into(),
                    ),
                },
            ),
            (
                "key k { algorithm hmac-sha256; secret \"c2VjcmV0\"; };\n\nkey K. { algorithm hmac-sha1; secret \"c2VjcmV0\"; };",
                3,
                Problem::DuplicateKey {
                    name: "k".into(),
                    first_line: 1,
                },
            ),
            ("// nothing but a comment\n", 1, Problem::NoKeys),
        ];
        for (text, line, expected) in cases {
            assert_eq!(problem(text), (*line, expected.clone()), "{text}");
        }
    }

    #[test]
    fn errors_read_as_file_line_message() {
        let err = KeyRing::new()
            .add_text(
                "key k {\n algorithm hmac-md5;\n secret \"c2VjcmV0\";\n};",
                "keys.conf",
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "keys.conf:2: key \"k\": unknown algorithm \"hmac-md5\" (known: hmac-sha1, hmac-sha224, \
             hmac-sha256, hmac-sha384, hmac-sha512, optionally truncated as hmac-sha256-128)"
        );
        let missing = KeyRing::from_file(Path::new("/nonexistent/keys.conf")).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("/nonexistent/keys.conf: cannot read key file:"),
            "{missing}"
        );
    }

    #[test]
    fn a_key_from_another_file_is_not_replaced() {
        let mut ring = KeyRing::new();
        let key = "key k { algorithm hmac-sha256; secret \"c2VjcmV0\"; };";
        ring.add_text(key, "a.conf").unwrap();
        let other = "key other { algorithm hmac-sha256; secret \"c2VjcmV0\"; };\n";
        let err = ring
            .add_text(&format!("{other}{key}"), "b.conf")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.conf:2: key \"k\" is already defined in another key file"
        );
        assert!(ring.get("other").is_none(), "a bad file adds nothing");
    }
}
