//! A zone's update rules in the configuration of `dnslab auth --config`,
//! as `dnslab check --config` validates them, and as the server applies
//! them.

use hickory_proto::rr::RecordType;

use super::{data, dig_key, knsupdate, write_zone, ZONE};
use crate::common::{dnslab, ScratchDir};
use crate::transfer::peers::{free_addr, DnslabChild};

/// Runs `dnslab check --config` on `text` written in `dir`.
fn check(dir: &ScratchDir, text: &str) -> (bool, String) {
    let path = dir.join("auth.yaml");
    std::fs::write(&path, text).expect("write config");
    let output = dnslab()
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .expect("run dnslab check");
    let printed =
        String::from_utf8_lossy(&output.stdout).replace(&path.display().to_string(), "auth.yaml");
    (output.status.success(), printed)
}

const KEYS: &str = "keys:
  - { name: ddns, algorithm: hmac-sha256, secret: \"loJyJt/ZbAqKUuk+Azwmu8P4YVGxXBqcQ0M/CCiM/jI=\" }
";

/// Every broken update rule is reported at its zone's line: a key not
/// defined, unsigned updates from beyond loopback without
/// `insecure_updates`, a name outside the zone, a `match` that is not
/// one, and rules on a secondary; a misspelt key inside a rule is
/// serde's error at its own line.
#[test]
fn broken_update_rules_are_reported_at_their_lines() {
    let dir = ScratchDir::new("update-config-bad");
    write_zone(&dir);
    let text = format!(
        "listen: [127.0.0.1:5300]
{KEYS}zones:
  - zone: update.test.
    file: update.test.zone
    allow_update:
      - \"key:missing\"
      - 192.0.2.0/24
      - {{ who: \"key:ddns\", names: [www.example.org.] }}
      - {{ who: \"key:ddns\", names: [www.update.test.], match: sub }}
  - zone: copy.test.
    primaries: [127.0.0.1:5301]
    allow_update: [\"key:ddns\"]
"
    );
    let (ok, out) = check(&dir, &text);
    assert!(!ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    let expected = [
        "auth.yaml:5: zone update.test.: allow_update: `key:missing`: no key named missing.",
        "auth.yaml:5: zone update.test.: allow_update: `192.0.2.0/24` allows unsigned updates from beyond this machine",
        "auth.yaml:5: zone update.test.: allow_update: name www.example.org. is not in zone update.test.",
        "auth.yaml:5: zone update.test.: allow_update: \"sub\" is not at-or-below, at or below",
        "auth.yaml:12: zone copy.test. is a secondary: it takes no updates",
    ];
    for (line, expected) in lines.iter().zip(expected) {
        assert!(line.starts_with(expected), "{line}\nexpected: {expected}");
    }
    // With insecure_updates, the prefix is accepted.
    let text = "listen: [127.0.0.1:5300]\ninsecure_updates: true\nzones:\n  - zone: update.test.\n    file: update.test.zone\n    allow_update: [192.0.2.0/24]\n";
    let (ok, out) = check(&dir, text);
    assert!(ok, "{out}");
    let (ok, out) = check(
        &dir,
        "listen: [127.0.0.1:5300]\nzones:\n  - zone: update.test.\n    file: update.test.zone\n    allow_update:\n      - { who: 127.0.0.1, nmes: [x] }\n",
    );
    assert!(!ok);
    assert!(
        out.contains("auth.yaml:6") && out.contains("unknown field `nmes`"),
        "{out}"
    );
}

/// The story: a configuration gives the ddns key the A and TXT records
/// below `dyn.update.test.` only. knsupdate with that key adds there,
/// and is refused at www and for MX; the journal lives in the
/// configuration's data directory.
#[test]
fn a_configured_rule_grants_its_names_and_types() {
    let dir = ScratchDir::new("update-config-good");
    write_zone(&dir);
    let text = format!(
        "listen: [127.0.0.1:5300]
data_dir: data
{KEYS}zones:
  - zone: update.test.
    file: update.test.zone
    allow_update:
      - who: \"key:ddns\"
        names: [dyn.update.test.]
        match: below
        types: [A, txt]
"
    );
    let (ok, out) = check(&dir, &text);
    assert!(ok, "{out}");
    let server = DnslabChild::start(
        &dir,
        free_addr(),
        &[format!("--config={}", dir.join("auth.yaml").display())],
    );
    let key = dig_key(super::DDNS);
    let Some(ran) = knsupdate(
        server.addr,
        &format!("update add a.dyn.{ZONE} 300 A 192.0.2.5"),
        Some(&key),
        false,
    ) else {
        return;
    };
    assert!(ran.ok, "{}", ran.output);
    assert_eq!(
        data(server.addr, &format!("a.dyn.{ZONE}"), RecordType::A),
        ["192.0.2.5"]
    );
    for denied in [
        format!("update add dyn.{ZONE} 300 A 192.0.2.5"),
        format!("update add www.{ZONE} 300 A 192.0.2.5"),
        format!("update add b.dyn.{ZONE} 300 MX 10 www.{ZONE}"),
    ] {
        let ran = knsupdate(server.addr, &denied, Some(&key), false).expect("knsupdate ran before");
        assert!(
            !ran.ok && ran.output.contains("REFUSED"),
            "{denied}: {}",
            ran.output
        );
    }
    assert!(dir.join("data").join("update.test.journal").exists());
}
