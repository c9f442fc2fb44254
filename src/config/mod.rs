//! The authoritative server's configuration: the YAML file of `dnslab auth
//! --config FILE` ([`load`]) and the flags of `dnslab auth`, which fill the
//! same [`ConfigSpec`], turned into one validated [`Setup`]: the library's
//! `AuthConfig` plus what the transport needs (listen addresses, UDP
//! workers).
//!
//! Every problem is reported, each with the line of the file it is at when
//! there is a file (serde_yaml's own line for syntax errors and unknown
//! keys; the line of the zone, key or remote entry otherwise). `dnslab
//! check --config FILE` runs the same validation.
//!
//! - `spec`: the file format (`deny_unknown_fields`).
//! - `build`: the conversion and its rules; `update`: a zone's dynamic
//!   update rules.

mod build;
pub mod spec;
pub(crate) mod update;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use dnslab_authoritative::AuthConfig;

pub use build::build;
pub use spec::{ConfigSpec, RuleSpec, UpdateRuleSpec, ZoneSpec};

use crate::yaml::Place;

/// A configuration ready to serve.
#[derive(Debug)]
pub struct Setup {
    pub auth: AuthConfig,
    pub listen: Vec<SocketAddr>,
    pub udp_workers: Option<usize>,
}

/// Where a configuration came from: paths in it are relative to `base`;
/// problems point into `file` when there is one.
pub struct Origin<'a> {
    pub file: Option<&'a Path>,
    /// The file's text, to find the lines of entries.
    pub text: &'a str,
    pub base: PathBuf,
}

/// One broken rule, with the line to look at when it is known.
#[derive(Clone, Debug)]
pub struct Problem {
    pub at: Option<Place>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{at}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

/// Every problem found, one per line.
#[derive(Clone, Debug)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Reads and validates the configuration file at `path`.
pub fn load(path: &Path) -> Result<Setup, Problems> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Problems(vec![Problem {
            at: None,
            message: format!("cannot read the configuration {}: {e}", path.display()),
        }])
    })?;
    let spec: ConfigSpec = serde_yaml::from_str(&text).map_err(|e| {
        Problems(vec![Problem {
            at: e.location().map(|l| Place {
                file: path.to_path_buf(),
                line: l.line(),
            }),
            message: e.to_string(),
        }])
    })?;
    let origin = Origin {
        file: Some(path),
        text: &text,
        base: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
    };
    build(spec, &origin)
}
