//! Views and RRset orders in the configuration of `dnslab auth --config`:
//! a zone's `rrset_order:` and `views:` (as in a topology), the server's
//! `rrset_order:` and `ecs:`, each mistake at its line, and a served
//! configuration answering by who asks.

use std::path::Path;

use dnslab_authoritative::AuthServer;
use hickory_proto::rr::RecordType;

use super::{addresses, ip, Zones, EAST, EAST_A, NOWHERE, WEST, WEST_A};
use crate::common::{dnslab, loopback_config, serve, udp_from, Ask};

/// The configuration text for the story's zones in `zones`' directory.
fn text(zones_extra: &str) -> String {
    format!(
        "listen: [127.0.0.1:0]
rrset_order: fixed
ecs: true
zones:
  - zone: test.
    file: test.zone
    rrset_order: cyclic
  - zone: cdn.test.
    file: cdn.zone
    views:
      - name: east
        clients: [127.0.0.0/24]
        records:
          a1105: [A {EAST_A}]
      - name: west
        clients: [127.0.1.0/24]
        file: cdn-west.zone
{zones_extra}"
    )
}

/// A configuration with views and orders loads, and its server answers
/// each client from its view, `test.` in its own (cyclic) order.
#[test]
fn a_configuration_serves_views_and_orders() {
    let zones = Zones::write();
    let path = zones.0.join("auth.yaml");
    std::fs::write(&path, text("")).expect("write config");
    let setup = dnslab::config::load(&path).unwrap_or_else(|p| panic!("{p}"));
    assert!(setup.auth.options.ecs);
    assert_eq!(setup.auth.options.rrset_order.to_string(), "fixed");
    let auth = AuthServer::new(setup.auth).expect("zones load");
    let running = serve(auth.handler(), loopback_config());
    let a1105 = |from| {
        let ask = Ask::new("a1105.cdn.test.", RecordType::A);
        addresses(&udp_from(ip(from), running.addr, &ask.to_message()))
    };
    assert_eq!(a1105(EAST), [EAST_A]);
    assert_eq!(a1105(WEST), [WEST_A]);
    assert_eq!(a1105(NOWHERE), ["198.51.100.100"]);
    let firsts: Vec<String> = (0..3)
        .map(|_| {
            let ask = Ask::new("www.test.", RecordType::A);
            addresses(&udp_from(ip(EAST), running.addr, &ask.to_message()))[0].clone()
        })
        .collect();
    assert_eq!(firsts, ["192.0.2.1", "192.0.2.2", "192.0.2.3"], "cyclic");
}

/// Writes `text` to `path` and runs `dnslab check --config` on it: whether
/// it passed, and what it printed (the path shown as `auth.yaml`).
fn check(path: &Path, text: &str) -> (bool, String) {
    std::fs::write(path, text).expect("write config");
    let output = dnslab()
        .args(["check", "--config"])
        .arg(path)
        .output()
        .expect("run dnslab check");
    let shown = path.display().to_string();
    let out = String::from_utf8_lossy(&output.stdout).replace(&shown, "auth.yaml");
    (output.status.success(), out)
}

/// `dnslab check --config` reports a bad order, a view of a secondary, a
/// view with both a file and records, and a view whose records do not
/// read, each at its line.
#[test]
fn dnslab_check_reports_each_views_mistake_at_its_line() {
    let zones = Zones::write();
    let extra = "  - zone: copy.test.
    primaries: [127.0.0.1]
    views:
      - name: nope
        clients: [127.0.0.0/8]
        file: cdn.zone
  - zone: other.test.
    file: test.zone
    rrset_order: shuffled
    views:
      - name: both
        clients: [127.0.0.0/8]
        file: cdn.zone
        records: {}
";
    let broken = text(extra).replace(&format!("a1105: [A {EAST_A}]"), "a1105: [A not-an-address]");
    let path = zones.0.join("auth.yaml");
    let (ok, out) = check(&path, &broken);
    assert!(!ok);
    let line = |needle: &str| {
        broken
            .lines()
            .position(|l| l.contains(needle))
            .map(|at| at + 1)
            .unwrap_or_else(|| panic!("{needle} in the text"))
    };
    for expected in [
        format!(
            "auth.yaml:{}: zone copy.test., view nope: a secondary's data comes by transfer",
            line("name: nope")
        ),
        format!(
            "auth.yaml:{}: zone other.test.: \"shuffled\" is not an RRset order",
            line("shuffled")
        ),
        format!(
            "auth.yaml:{}: zone other.test., view both: give either `file:` or `records:`",
            line("name: both")
        ),
    ] {
        assert!(out.contains(&expected), "{expected:?} in\n{out}");
    }
    // Fixed, the file checks; its bad record is then the views' problem.
    let fixed = text("").replace(&format!("a1105: [A {EAST_A}]"), "a1105: [A not-an-address]");
    let (ok, out) = check(&path, &fixed);
    assert!(!ok);
    assert!(
        out.contains("zone cdn.test.: view east: records at a1105: \"A not-an-address\""),
        "{out}"
    );
}
