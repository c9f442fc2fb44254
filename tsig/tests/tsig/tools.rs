//! The real tools the tests drive (dig, kdig, tsig-keygen, knotd): found
//! in PATH or the sbin directories, run with a bounded wait. A missing
//! tool skips the test on a developer's machine and fails it in CI
//! (`CI=true`), where `.ci/run` installs every one.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

/// The program, or `None` after saying why the test is skipped; panics in
/// CI, where a skipped test would pass without testing anything.
pub fn require(program: &str, package: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!(
                "{program} is not installed but CI=true: apt-get install {package} (see .ci/run)"
            );
        }
        eprintln!("SKIPPED: {program} not installed (apt-get install {package})");
    }
    found
}

/// What a client tool printed (stdout then stderr), whatever its exit
/// status: dig exits non-zero on some TSIG failures, which the tests
/// check through what it prints.
pub fn run(program: &PathBuf, args: &[String]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    text
}

/// `dig @127.0.0.1 -p PORT +time=5 +tries=1 ARGS...`, or `None` when dig
/// is missing outside CI.
pub fn dig(server: SocketAddr, args: &[&str]) -> Option<String> {
    let dig = require("dig", "bind9-dnsutils")?;
    Some(run(&dig, &client_args(server, "+tries=1", args)))
}

/// `kdig @127.0.0.1 -p PORT +time=5 +retry=0 ARGS...`, or `None` when
/// kdig is missing outside CI.
pub fn kdig(server: SocketAddr, args: &[&str]) -> Option<String> {
    let kdig = require("kdig", "knot-dnsutils")?;
    Some(run(&kdig, &client_args(server, "+retry=0", args)))
}

/// The server, a 5-second timeout, a single try (each tool spells it its
/// own way), then `args`.
fn client_args(server: SocketAddr, single_try: &str, args: &[&str]) -> Vec<String> {
    let mut all = vec![
        format!("@{}", server.ip()),
        "-p".into(),
        server.port().to_string(),
        "+time=5".into(),
        single_try.into(),
    ];
    all.extend(args.iter().map(|s| s.to_string()));
    all
}
