//! The configuration of `dnslab auth --config`, as `dnslab check --config`
//! validates it: every problem with its line, a good file summarised.

use crate::common::{dnslab, repo_path, ScratchDir};

/// Runs `dnslab check --config FILE` on `text`: its exit status and output.
fn check(text: &str) -> (bool, String) {
    let dir = ScratchDir::new("check-config");
    let path = dir.join("auth.yaml");
    std::fs::write(&path, text).expect("write config");
    let output = dnslab()
        .arg("check")
        .arg("--config")
        .arg(&path)
        .output()
        .expect("run dnslab check");
    let stdout =
        String::from_utf8_lossy(&output.stdout).replace(&path.display().to_string(), "auth.yaml");
    (output.status.success(), stdout)
}

/// A misspelt key is an error at its line, never ignored (the file is read
/// with deny_unknown_fields), so that `allow_transfers:` cannot silently
/// leave a zone open to nobody.
#[test]
fn an_unknown_key_is_an_error_at_its_line() {
    let (ok, out) = check("listen: [127.0.0.1:5300]\nzones:\n  - zone: example.com.\n    file: x.zone\n    allow_transfers: [127.0.0.1]\n");
    assert!(!ok);
    assert!(
        out.starts_with("auth.yaml:5: zones[0]: unknown field `allow_transfers`"),
        "{out}"
    );
}

/// Every broken rule of a file that parses is reported, each at the line
/// of the entry to fix: an undefined key, an entry that is neither a
/// remote nor an address, a zone both primary and secondary, a zone twice.
#[test]
fn every_problem_is_reported_at_its_line() {
    let text = "version: 1
listen: [127.0.0.1:5300]
remotes:
  - { id: knot, address: 127.0.0.1:5301, key: nokey }
zones:
  - zone: a.test.
    primaries: [nowhere]
  - zone: b.test.
    file: b.zone
    primaries: [127.0.0.1]
  - zone: c.test.
    file: c.zone
    allow_transfer: [\"key:missing\"]
  - zone: c.test.
    file: c.zone
";
    let (ok, out) = check(text);
    assert!(!ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(
        lines[0].starts_with("auth.yaml:4: remote `knot`: no key named nokey"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("auth.yaml:6: zone a.test.: primary `nowhere` is neither"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("auth.yaml:8: zone b.test. has both a file and primaries"),
        "{out}"
    );
    assert!(
        lines[3].starts_with(
            "auth.yaml:11: zone c.test.: allow_transfer `key:missing`: no key named missing."
        ),
        "{out}"
    );
    assert!(
        lines[4].starts_with("auth.yaml:14: zone c.test. is configured twice"),
        "{out}"
    );
}

/// A good file: its zones' master files checked as `dnslab check FILE`
/// checks them, and a summary line.
#[test]
fn a_good_configuration_is_summarised() {
    let zone = repo_path("zones/example.com.zone");
    let text = format!(
        "listen: [127.0.0.1:5300]
keys:
  - {{ name: xfr, algorithm: hmac-sha256, secret: \"c2VjcmV0c2VjcmV0c2VjcmV0\" }}
zones:
  - zone: example.com.
    file: {}
    allow_transfer: [\"key:xfr\", 127.0.0.0/8]
    notify: [\"key:xfr@127.0.0.2:5300\"]
  - zone: example.org.
    primaries: [\"key:xfr@127.0.0.3\"]
",
        zone.display()
    );
    let (ok, out) = check(&text);
    assert!(ok, "{out}");
    assert!(out.contains("zone example.com. OK"), "{out}");
    assert!(
        out.trim_end()
            .ends_with("configuration OK: 1 primary and 1 secondary zone(s), 1 key(s)"),
        "{out}"
    );
}
