//! `dnslab check`: read and check master files as `named-checkzone` does,
//! through the same reader, checker and store the server loads zones with,
//! so a file that passes here loads there; with `--config FILE`, the
//! configuration of `dnslab auth --config` as the server validates it, and
//! every primary zone's file it names, with its views' data.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dnslab_authoritative::{check_views, read_and_build, Role, ZoneSource};
use dnslab_wire::absolute_name;
use hickory_proto::rr::Name;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Zone name for every FILE given without NAME= (default: each file's
    /// first $ORIGIN, else its SOA owner).
    #[arg(long, value_name = "NAME", value_parser = absolute_name)]
    origin: Option<Name>,
    /// Master files to check, optionally with their zone names.
    #[arg(required_unless_present = "config", value_name = "FILE|NAME=FILE")]
    zones: Vec<ZoneSource>,
    /// A configuration of `dnslab auth --config` to validate, with the
    /// master files of its primary zones.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Checks every file; prints each problem as `file:line: message` and a
/// summary line per good zone. Fails if any file has a problem.
pub fn run(args: CheckArgs) -> ExitCode {
    let mut ok = true;
    if let Some(path) = &args.config {
        ok &= check_config(path);
    }
    for source in &args.zones {
        let origin = source.origin.as_ref().or(args.origin.as_ref());
        ok &= check_file(&source.path, origin).is_some();
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Validates a configuration file; prints each problem as `file:line:
/// message`, then checks every primary zone's master file.
fn check_config(path: &Path) -> bool {
    let setup = match dnslab::config::load(path) {
        Ok(setup) => setup,
        Err(problems) => {
            println!("{problems}");
            return false;
        }
    };
    let mut ok = true;
    let (mut primaries, mut secondaries) = (0, 0);
    for zone in &setup.auth.zones {
        match &zone.role {
            Role::Primary(source) => {
                primaries += 1;
                let Some(origin) = check_file(&source.path, source.origin.as_ref()) else {
                    ok = false;
                    continue;
                };
                for error in check_views(&origin, &source.path, &zone.views) {
                    println!("{error}");
                    ok = false;
                }
            }
            Role::Secondary { .. } => secondaries += 1,
        }
    }
    println!(
        "{}: configuration OK: {primaries} primary and {secondaries} secondary zone(s), {} key(s)",
        path.display(),
        setup.auth.keys.len()
    );
    ok
}

/// Checks one master file, printing what is wrong or a summary; the
/// zone's name when it is good.
fn check_file(path: &Path, origin: Option<&Name>) -> Option<Name> {
    let built = match read_and_build(path, origin) {
        Ok(built) => built,
        Err(e) => {
            println!("{e}");
            return None;
        }
    };
    for warning in &built.warnings {
        println!("{}: warning: {}", warning.location, warning.message);
    }
    let origin = built.origin;
    match built.zone {
        Ok(zone) => {
            for warning in zone.warnings() {
                println!("{warning}");
            }
            let summary = zone.summary();
            println!(
                "{}: zone {origin} OK: {} records, {} names, {} delegations",
                path.display(),
                summary.records,
                summary.names,
                summary.delegations
            );
            if summary.signatures > 0 && !summary.proves_denial {
                println!(
                    "{}: note: signed ({} RRSIG records) without a usable NSEC or NSEC3 chain: dnslab answers queries for DNSSEC records but adds no signatures or denial proofs to other answers",
                    path.display(),
                    summary.signatures
                );
            }
            Some(origin)
        }
        Err(problems) => {
            for problem in &problems {
                println!("{problem}");
            }
            None
        }
    }
}
