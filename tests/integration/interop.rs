//! Interoperability: `dig` and `nslookup` against the real `dnslab auth`
//! binary, and a differential test of dnslab against Knot DNS and NSD
//! serving the same zone files.
//!
//! Every server here is a child process on 127.0.0.1 and a port picked at
//! random (retried if the server cannot bind it), stopped by its PID when the
//! test's guard is dropped, so a failing assertion never leaves one running.
//! A missing tool (dig, knotd, nsd, unbound) fails the test in CI
//! (`CI=true`; `.ci/run` installs them all); on a developer laptop that
//! lacks one, the test prints `SKIPPED: ...` and passes.
//!
//! The zones in `tests/data/interop/` are copies of the anchor lab's
//! `com.`, `example.com.` and `example.org.` (the lab is not part of this
//! repository), plus `large.test.`, an RRset too big for UDP.

use std::fs;
use std::path::PathBuf;

use crate::common;

/// Every question generated from the zones, to Knot, NSD and dnslab.
mod differential;
/// `dig` and `nslookup` against dnslab: what a user sees.
mod dig;
/// Starting and stopping dnslab, Knot and NSD as child processes.
mod servers;
/// A validating Unbound against dnslab's answers from signed zones.
mod validation;

/// A zone as given to every server: its origin and its master file.
#[derive(Clone, Debug)]
pub(super) struct ZoneFile {
    pub(super) origin: String,
    pub(super) path: PathBuf,
}

impl ZoneFile {
    fn new(origin: &str, path: PathBuf) -> Self {
        ZoneFile {
            origin: origin.to_string(),
            path,
        }
    }
}

/// The lab's zones (copied into tests/data/interop) plus `large.test.` and
/// `types.test.` (record types beyond RFC 1035's), `signed.test.`,
/// `nsec3.test.` and `optout.test.` (zones signed with NSEC, NSEC3, and
/// NSEC3 with opt-out).
pub(super) fn lab_zones() -> Vec<ZoneFile> {
    [
        "com.",
        "example.com.",
        "example.org.",
        "large.test.",
        "types.test.",
        "signed.test.",
        "nsec3.test.",
        "optout.test.",
    ]
    .iter()
    .map(|origin| {
        let file = format!("tests/data/interop/{}zone", origin);
        ZoneFile::new(origin, common::repo_path(&file))
    })
    .collect()
}

/// The zones shipped in `zones/` (`zones/<origin>.zone`; subdirectories such
/// as `zones/default/` belong to `dnslab up` and are not included): the
/// README's examples, so there are always some.
pub(super) fn shipped_zones() -> Vec<ZoneFile> {
    let dir = fs::read_dir(common::repo_path("zones")).expect("read zones/");
    let mut zones: Vec<ZoneFile> = dir
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter_map(|path| {
            let stem = path
                .file_name()?
                .to_str()?
                .strip_suffix(".zone")?
                .to_string();
            path.is_file()
                .then(|| ZoneFile::new(&format!("{stem}."), path))
        })
        .collect();
    zones.sort_by(|a, b| a.origin.cmp(&b.origin));
    assert!(
        !zones.is_empty(),
        "zones/ holds no <origin>.zone file, yet the README's examples serve them"
    );
    zones
}

/// Records as sorted lines, the form `common::section` and dig parsing give.
pub(super) use crate::common::lines;
