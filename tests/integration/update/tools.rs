//! nsupdate (BIND) and knsupdate (Knot) against dnslab, over UDP and
//! TCP, signed with TSIG: every kind of update and prerequisite, the
//! protections of RFC 2136 3.4.2, and every refusal read by the tools as
//! the error it is.

use std::path::Path;

use hickory_proto::rr::RecordType;

use super::{
    data, dig_key, knsupdate, nsupdate, run_script, serial, served, write_keys, ToolRun, ZONE,
};
use crate::common::{ScratchDir, ServedAuth};

/// Runs `script` with nsupdate (key file `key`) or knsupdate (the same
/// key by `-y`), over TCP or UDP; `None` when the tool is missing.
fn run(tool: Tool, server: &ServedAuth, dir: &Path, script: &str, tcp: bool) -> Option<ToolRun> {
    match tool {
        Tool::Nsupdate => nsupdate(server.addr, script, Some(&dir.join("ddns.key")), tcp),
        Tool::Knsupdate => knsupdate(server.addr, script, Some(&dig_key(super::DDNS)), tcp),
    }
}

#[derive(Clone, Copy, Debug)]
enum Tool {
    Nsupdate,
    Knsupdate,
}

fn www() -> String {
    format!("www.{ZONE}")
}

/// The story: an operator changes update.test. with each tool, over UDP
/// then TCP: adds a name, adds to an RRset, deletes one record, an RRset,
/// a whole name, and each change is answered at once with a new serial
/// (one up per update); an update that changes nothing keeps the serial.
#[test]
fn nsupdate_and_knsupdate_apply_every_kind_of_update_over_udp_and_tcp() {
    for tool in [Tool::Nsupdate, Tool::Knsupdate] {
        for tcp in [false, true] {
            let dir = ScratchDir::new("update-kinds");
            write_keys(&dir);
            let server = served(&dir);
            let addr = server.addr;
            let steps: [(&str, &str, RecordType, &[&str]); 5] = [
                (
                    "update add new.update.test. 600 A 192.0.2.10",
                    "new.update.test.",
                    RecordType::A,
                    &["192.0.2.10"],
                ),
                (
                    "update add www.update.test. 300 A 192.0.2.3",
                    "www.update.test.",
                    RecordType::A,
                    &["192.0.2.1", "192.0.2.2", "192.0.2.3"],
                ),
                (
                    "update delete www.update.test. 300 A 192.0.2.1",
                    "www.update.test.",
                    RecordType::A,
                    &["192.0.2.2", "192.0.2.3"],
                ),
                (
                    "update delete mail.update.test. MX",
                    "mail.update.test.",
                    RecordType::MX,
                    &[],
                ),
                (
                    "update delete new.update.test.",
                    "new.update.test.",
                    RecordType::A,
                    &[],
                ),
            ];
            for (at, (script, owner, rtype, expected)) in steps.iter().enumerate() {
                let Some(ran) = run(tool, &server, &dir, script, tcp) else {
                    return;
                };
                assert!(ran.ok, "{tool:?} tcp={tcp} {script}: {}", ran.output);
                assert_eq!(&data(addr, owner, *rtype), expected, "{tool:?} {script}");
                assert_eq!(serial(addr), 2 + at as u32, "{tool:?} {script}");
            }
            let Some(ran) = run(
                tool,
                &server,
                &dir,
                "update add www.update.test. 300 A 192.0.2.2",
                tcp,
            ) else {
                return;
            };
            assert!(ran.ok, "{}", ran.output);
            assert_eq!(serial(addr), 6, "a duplicate changes nothing");
        }
    }
}

/// RFC 2136 2.4: each prerequisite passing (the update is applied) and
/// failing with its RCODE (nothing is), as nsupdate and knsupdate print
/// it: name in use (NXDOMAIN), name not in use (YXDOMAIN), RRset exists
/// (NXRRSET), exists with these records (NXRRSET), does not exist
/// (YXRRSET).
#[test]
fn every_prerequisite_passes_and_fails_with_its_rcode() {
    let www = www();
    let cases = [
        (
            format!("prereq yxdomain {www}"),
            format!("prereq yxdomain nothing.{ZONE}"),
            "NXDOMAIN",
        ),
        (
            format!("prereq nxdomain nothing.{ZONE}"),
            format!("prereq nxdomain {www}"),
            "YXDOMAIN",
        ),
        (
            format!("prereq yxrrset {www} A"),
            format!("prereq yxrrset {www} AAAA"),
            "NXRRSET",
        ),
        (
            format!("prereq yxrrset {www} A 192.0.2.1\nprereq yxrrset {www} A 192.0.2.2"),
            format!("prereq yxrrset {www} A 192.0.2.1"),
            "NXRRSET",
        ),
        (
            format!("prereq nxrrset {www} AAAA"),
            format!("prereq nxrrset {www} A"),
            "YXRRSET",
        ),
    ];
    for tool in [Tool::Nsupdate, Tool::Knsupdate] {
        let dir = ScratchDir::new("update-prereq");
        write_keys(&dir);
        let server = served(&dir);
        for (at, (passing, failing, rcode)) in cases.iter().enumerate() {
            let owner = format!("p{at}.{ZONE}");
            let add = format!("update add {owner} 300 TXT \"{tool:?}\"");
            let Some(failed) = run(tool, &server, &dir, &format!("{failing}\n{add}"), false) else {
                return;
            };
            assert!(!failed.ok, "{tool:?} {failing}: {}", failed.output);
            assert!(
                failed.output.contains(rcode),
                "{tool:?} {failing}: {}",
                failed.output
            );
            assert!(data(server.addr, &owner, RecordType::TXT).is_empty());
            let Some(passed) = run(tool, &server, &dir, &format!("{passing}\n{add}"), false) else {
                return;
            };
            assert!(passed.ok, "{tool:?} {passing}: {}", passed.output);
            assert_eq!(data(server.addr, &owner, RecordType::TXT).len(), 1);
        }
    }
}

/// RFC 2136 3.4.2: the SOA cannot be deleted and is replaced only by a
/// greater serial; the apex NS is never emptied; a CNAME is not added
/// beside other data. Each is ignored, and answered NOERROR, as BIND
/// does; the zone is as it was.
#[test]
fn the_soa_the_apex_ns_and_cnames_are_protected() {
    let dir = ScratchDir::new("update-protect");
    write_keys(&dir);
    let server = served(&dir);
    let addr = server.addr;
    let ignored = [
        format!("update delete {ZONE} SOA"),
        format!("update delete {ZONE} NS"),
        format!("update delete {ZONE} NS ns.{ZONE}"),
        format!("update delete {ZONE}"),
        format!("update add {ZONE} 300 SOA ns.{ZONE} admin.{ZONE} 1 1 1 1 1"),
        format!("update add www.{ZONE} 300 CNAME mail.{ZONE}"),
    ];
    for script in &ignored {
        let Some(ran) = run(Tool::Nsupdate, &server, &dir, script, false) else {
            return;
        };
        assert!(ran.ok, "{script}: {}", ran.output);
    }
    assert_eq!(serial(addr), 1, "nothing changed");
    assert_eq!(data(addr, ZONE, RecordType::NS), [format!("ns.{ZONE}")]);
    assert_eq!(
        data(addr, &www(), RecordType::A),
        ["192.0.2.1", "192.0.2.2"]
    );
    // A greater serial replaces the SOA, and is the serial served.
    let soa =
        format!("update add {ZONE} 300 SOA ns.{ZONE} admin.{ZONE} 2026120701 3600 600 86400 300");
    let Some(ran) = run(Tool::Knsupdate, &server, &dir, &soa, true) else {
        return;
    };
    assert!(ran.ok, "{}", ran.output);
    assert_eq!(serial(addr), 2026120701);
}

/// RFC 8945 5.2 and RFC 3007: a key the server does not know is BADKEY, a
/// wrong secret BADSIG, no key at all REFUSED (the zone takes unsigned
/// updates from 127.0.0.2 only); the web key changes A and AAAA at www
/// and nothing else. Each refusal is the error the tools report, and
/// nothing changes.
#[test]
fn wrong_unknown_and_missing_keys_and_a_narrow_key_are_refused() {
    let dir = ScratchDir::new("update-keys");
    write_keys(&dir);
    let server = served(&dir);
    let addr = server.addr;
    let add = format!("update add x.{ZONE} 300 A 192.0.2.9");
    let wrong = format!("hmac-sha256:{}:c2VjcmV0c2VjcmV0c2VjcmV0", super::DDNS);
    let unknown = "hmac-sha256:stranger:c2VjcmV0c2VjcmV0c2VjcmV0";
    for (key, nsupdate_says, knsupdate_says) in [
        (Some(wrong.as_str()), "NOTAUTH(BADSIG)", "status: BADSIG"),
        (Some(unknown), "NOTAUTH(BADKEY)", "status: BADKEY"),
        (None, "REFUSED", "'REFUSED'"),
    ] {
        let Some(out) = knsupdate(addr, &add, key, false) else {
            return;
        };
        assert!(
            !out.ok && out.output.contains(knsupdate_says),
            "{key:?}: {}",
            out.output
        );
        let program = crate::common::require("nsupdate", "bind9-dnsutils");
        let Some(program) = program else {
            return;
        };
        let mut command = std::process::Command::new(program);
        if let Some(key) = key {
            command.args(["-y", key]);
        }
        let script = format!(
            "server {} {}\nzone {ZONE}\n{add}\nsend\n",
            addr.ip(),
            addr.port()
        );
        let ran = run_script(command, &script);
        assert!(
            !ran.ok && ran.output.contains(nsupdate_says),
            "{key:?}: {}",
            ran.output
        );
    }
    assert!(data(addr, &format!("x.{ZONE}"), RecordType::A).is_empty());
    // The web key: A and AAAA at www only.
    let web = dir.join("web.key");
    let allowed = format!("update add www.{ZONE} 300 AAAA 2001:db8::1");
    let ran = nsupdate(addr, &allowed, Some(&web), false).expect("nsupdate ran before");
    assert!(ran.ok, "{}", ran.output);
    for denied in [
        format!("update add www.{ZONE} 300 TXT \"no\""),
        format!("update add mail.{ZONE} 300 A 192.0.2.9"),
        format!("update delete www.{ZONE}"),
    ] {
        let ran = nsupdate(addr, &denied, Some(&web), true).expect("nsupdate ran before");
        assert!(
            !ran.ok && ran.output.contains("REFUSED"),
            "{denied}: {}",
            ran.output
        );
    }
    assert_eq!(serial(addr), 2, "only the allowed update");
    // Unsigned from 127.0.0.2, which the zone's rules name.
    let unsigned = format!("local 127.0.0.2\n{add}");
    let ran = nsupdate(addr, &unsigned, None, false).expect("nsupdate ran before");
    assert!(ran.ok, "{}", ran.output);
    assert_eq!(
        data(addr, &format!("x.{ZONE}"), RecordType::A),
        ["192.0.2.9"]
    );
}

/// RFC 2136 3.1.1: a zone the server does not have is NOTAUTH; so is a
/// zone it holds as a secondary (dnslab's choice: the client is to send
/// its update to the primary; see the README).
#[test]
fn a_zone_not_served_or_held_as_secondary_is_notauth() {
    let dir = ScratchDir::new("update-notauth");
    write_keys(&dir);
    let primary = served(&dir);
    let (bound, addr) = crate::transfer::bound();
    let config = dnslab_authoritative::AuthConfig {
        keys: [super::key(super::DDNS)].into_iter().collect(),
        ..crate::transfer::config(
            vec![crate::transfer::secondary(ZONE, &[primary.addr])],
            &dir.join("secondary"),
        )
    };
    let secondary = ServedAuth::with_tasks(config, bound);
    assert!(crate::transfer::wait_for_serial(
        addr,
        ZONE,
        1,
        std::time::Duration::from_secs(10)
    ));
    let add = format!("update add x.{ZONE} 300 A 192.0.2.9");
    let ran = nsupdate(secondary.addr, &add, Some(&dir.join("ddns.key")), false);
    let Some(ran) = ran else {
        return;
    };
    assert!(!ran.ok && ran.output.contains("NOTAUTH"), "{}", ran.output);
    let elsewhere = format!(
        "server {} {}\nzone other.test.\nupdate add x.other.test. 300 A 192.0.2.9\nsend\n",
        primary.addr.ip(),
        primary.addr.port()
    );
    let program = crate::common::require("nsupdate", "bind9-dnsutils").expect("installed");
    let mut command = std::process::Command::new(program);
    command.arg("-k").arg(dir.join("ddns.key"));
    let ran = run_script(command, &elsewhere);
    assert!(!ran.ok && ran.output.contains("NOTAUTH"), "{}", ran.output);
    assert_eq!(serial(primary.addr), 1);
}
