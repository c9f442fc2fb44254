//! What the YAML files of `dnslab` share (the topologies of `dnslab up`,
//! the configuration of `dnslab auth --config`): the line a problem is at
//! ([`Place`]) and the lines of keys ([`Lines`]), since serde_yaml 0.9
//! reports lines for syntax errors and unknown keys only, not for the
//! values that break a rule checked after parsing.

use std::fmt;
use std::path::PathBuf;

/// A line in a file: a YAML file or a zone file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    /// 1-based, as editors count.
    pub line: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// The `key: value` pairs of a YAML text with their line numbers, in both
/// block (`key: value`) and flow (`{ key: value, ... }`) style.
pub struct Lines<'a> {
    pairs: Vec<(&'a str, &'a str, usize)>,
    /// Every line without its comment, for list items (they have no key).
    text: Vec<&'a str>,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut pairs = Vec::new();
        let mut lines = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.split(" #").next().unwrap_or_default();
            let line = if line.trim_start().starts_with('#') {
                ""
            } else {
                line
            };
            lines.push(line);
            for piece in line.split(['{', '}', ',']) {
                let piece = piece.trim().trim_start_matches("- ").trim();
                if let Some((key, value)) = piece.split_once(':') {
                    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
                    pairs.push((key.trim(), value, index + 1));
                }
            }
        }
        Lines { pairs, text: lines }
    }

    /// The line of the `nth` (0-based) occurrence of `key: value`.
    pub fn find(&self, key: &str, value: &str, nth: usize) -> Option<usize> {
        self.pairs
            .iter()
            .filter(|(k, v, _)| *k == key && *v == value)
            .nth(nth)
            .map(|(_, _, line)| *line)
    }

    /// The line of the first `key:`, whatever its value.
    pub fn find_key(&self, key: &str) -> Option<usize> {
        self.find_key_from(key, 0)
    }

    /// The line of the first `key:` at or below line `from`: a key of the
    /// section that starts there.
    pub fn find_key_from(&self, key: &str, from: usize) -> Option<usize> {
        self.pairs
            .iter()
            .find(|(k, _, line)| *k == key && *line >= from)
            .map(|(_, _, line)| *line)
    }

    /// The line of the `nth` (0-based) line containing `needle` outside
    /// comments: for list items, which have no key.
    pub fn containing(&self, needle: &str, nth: usize) -> Option<usize> {
        self.text
            .iter()
            .enumerate()
            .filter(|(_, line)| line.contains(needle))
            .nth(nth)
            .map(|(index, _)| index + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_finds_block_and_flow_pairs_by_occurrence() {
        let text = "port: 5300\nservers:\n  - name: a.\n    zones:\n      - { zone: ., file: root.zone }\n  - name: a.  # again\n";
        let lines = Lines::new(text);
        assert_eq!(lines.find("port", "5300", 0), Some(1));
        assert_eq!(lines.find("name", "a.", 0), Some(3));
        assert_eq!(lines.find("name", "a.", 1), Some(6));
        assert_eq!(lines.find("file", "root.zone", 0), Some(5));
        assert_eq!(lines.find("zone", ".", 0), Some(5));
        assert_eq!(lines.find("name", "a.", 2), None);
    }
}
