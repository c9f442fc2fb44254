//! The differential test: Unbound (Debian's package) and dnslab's resolver
//! walk the same hierarchy of dnslab authoritative servers, and every
//! final answer must be the same: RCODE, the answer section (CNAME chain
//! and RRset) and the authority section (the SOA of a negative answer).
//! TTLs are left out, since both count them down.
//!
//! Unbound asks every server on port 53 and has no setting for another
//! one, so this test starts a second copy of the lab's servers on port 53
//! of the same 127.0.53.x addresses (the shared copy lives on a random
//! port). Binding port 53 needs root, as CI has (`.ci/run`); without it the
//! test fails in CI and says SKIPPED elsewhere.

use std::fs;
use std::io::ErrorKind;
use std::net::SocketAddr;

use hickory_proto::op::Message;
use tokio::runtime::Runtime;

use super::{bind_lab, serve_custom, serve_lab, write_zones, TestResolver};
use crate::common::{
    cannot_run, require, section_without_ttl, tcp, udp_message, Ask, FakeUdp, Unbound, TIMEOUT,
};
use dnslab_resolver::ZoneServers;
use dnslab_transport::TransportError;
use hickory_proto::rr::Name;
use hickory_proto::rr::RecordType::{self, A, AAAA, DNAME, DS, MX, NS, SOA, TXT};

/// The port Unbound sends every upstream query to.
const DNS_PORT: u16 = 53;

/// Questions covering what the hierarchy offers: plain answers, NODATA and
/// NXDOMAIN with their SOA, a wildcard, CNAME chains across zones, a
/// three-level delegation chain, a glueless delegation, a half-lame and a
/// half-dead delegation, truncation (then TCP), DS at and above a zone
/// cut, a DNAME (and a name synthesised from it once cached), a TTL-0
/// record asked twice, a name asked in other case than its zone writes it,
/// names under a TLD no server has, and the failures both must turn into
/// SERVFAIL: a CNAME loop, an NS loop, a delegation whose only server
/// is lame. Then issue 17's cases (see `hardening`): a dead child-side
/// address and stale parent glue, a glueless lookup hitting a bad
/// referral, an NS set the child changed (and one that fails, the
/// parent's then the fallback), an authoritative upward referral, an
/// off-type answer, unspecified and broadcast glue and server addresses,
/// a referral to a loopback server that refuses. Left out: the servers
/// that lie, stall or refuse minimised queries (the resolver tests check
/// those by their upstream queries), and `--upstream-loopback deny`
/// (Unbound's `do-not-query-localhost: yes` refuses configured loopback
/// servers too, so the lab cannot be reached at all).
const QUESTIONS: &[(&str, RecordType)] = &[
    ("www.example.com.", A),
    ("www.example.com.", AAAA),
    ("www.example.com.", TXT),
    ("mail.example.com.", A),
    ("example.com.", NS),
    ("example.com.", SOA),
    ("example.com.", MX),
    ("nosuch.example.com.", A),
    ("x.y.wild.example.com.", A),
    ("alias.example.com.", A),
    ("www.umass.edu.", A),
    ("www.cs.umass.edu.", A),
    ("nosuch.cs.umass.edu.", A),
    ("cs.umass.edu.", DS),
    ("umass.edu.", DS),
    ("www.glueless.com.", A),
    ("www.halflame.com.", A),
    ("www.dead.com.", A),
    ("www.big.com.", TXT),
    ("nosuch.com.", A),
    ("www.nothing.org.", A),
    ("x.wild.example.com.", TXT),
    ("example.com.", DS),
    ("www.moved.example.com.", A),
    ("nosuch.moved.example.com.", A),
    ("moved.example.com.", DNAME),
    ("zero.example.com.", A),
    ("zero.example.com.", A),
    ("mixed.EXAMPLE.com.", A),
    ("loop1.example.com.", A),
    ("www.lame.com.", A),
    ("www.loop.com.", A),
    ("www.usesdead.edu.", A),
    ("www.parentstale.com.", A),
    ("www.gluekept.edu.", A),
    ("movedns.com.", NS),
    ("w1.movedns.com.", A),
    ("w2.movedns.com.", A),
    ("brokenchild.com.", NS),
    ("www.brokenchild.com.", A),
    ("www.upaa.com.", A),
    ("upaa.com.", SOA),
    ("www.upaa.com.", TXT),
    ("www.allupaa.com.", A),
    ("www.offtype.com.", AAAA),
    ("www.offtype.com.", A),
    ("www.badglue.com.", A),
    ("www.badns.edu.", A),
    ("www.trap.com.", A),
];

/// Without IPv6 upstreams (Unbound's `do-ip6: no`, which every Unbound
/// here has): a server with only an AAAA record is out of reach.
const WITHOUT_IPV6: &[(&str, RecordType)] = &[
    ("www.v6only.com.", A),
    ("www.glueless.com.", A),
    ("www.example.com.", AAAA),
];

/// Names under the stub zones both resolvers are given (example.com and
/// umass.edu, at their lab servers), and outside them.
const STUBBED: &[(&str, RecordType)] = &[
    ("www.example.com.", A),
    ("nosuch.example.com.", A),
    ("alias.example.com.", A),
    ("www.umass.edu.", A),
    ("www.cs.umass.edu.", A),
    ("nosuch.cs.umass.edu.", A),
    ("www.halflame.com.", A),
];

/// What two resolvers must agree on.
#[derive(Debug, PartialEq, Eq)]
struct Final {
    rcode: String,
    answers: Vec<String>,
    authorities: Vec<String>,
}

impl Final {
    fn of(msg: &Message) -> Final {
        Final {
            rcode: msg.metadata.response_code.to_string(),
            answers: section_without_ttl(&msg.answers),
            authorities: section_without_ttl(&msg.authorities),
        }
    }
}

/// Tries per question, as a stub resolver (dig: 3) makes: while Unbound
/// waits out a dead server it does not answer within [`TIMEOUT`], but it
/// goes on resolving and answers the next try.
const TRIES: usize = 3;

/// Asks `server` with RD=1 over UDP (up to [`TRIES`] times), and over TCP
/// if the answer was truncated, as a stub resolver does; `None` if no
/// answer came.
fn ask(server: SocketAddr, qname: &str, qtype: RecordType) -> Option<Message> {
    let question = Ask::new(qname, qtype).rd();
    let msg = (0..TRIES).find_map(|_| udp_message(server, &question.to_message(), TIMEOUT))?;
    Some(if msg.metadata.truncation {
        tcp(server, &question)
    } else {
        msg
    })
}

/// The lab's servers on port 53 (the scripted ones too), serving until the
/// runtime and the scripted servers are dropped;
/// `None` if the port cannot be bound without root (a failure in CI, see
/// [`cannot_run`]).
fn lab_on_port_53() -> Option<(Runtime, Vec<FakeUdp>)> {
    let (servers, custom) = match bind_lab(DNS_PORT, &write_zones()) {
        Ok(bound) => bound,
        Err(TransportError::Bind { source, addr, .. })
            if source.kind() == ErrorKind::PermissionDenied =>
        {
            cannot_run(&format!("binding {addr} (port {DNS_PORT}) needs root"));
            return None;
        }
        Err(e) => panic!("cannot start the lab's servers on port {DNS_PORT}: {e}"),
    };
    let (custom, _hits) = serve_custom(custom);
    Some((serve_lab(servers), custom))
}

/// Unbound iterating from the lab's root with QNAME minimisation (its
/// default), as the anchor lab configures it, with `more` settings
/// (`server:` lines, then other clauses).
fn start_unbound(program: &std::path::Path, more: &str) -> Unbound {
    // Ready when it answers anything; RD=0 keeps its cache empty.
    let probe = Ask::new(".", NS).to_message();
    // Unbound waits out a dead server (nothing listening) with retries
    // and backoff up to two minutes; the lab's dead child-side and stale
    // parent-side addresses would keep it past a stub resolver's three
    // tries. Fewer, shorter retries give it the same answers in seconds.
    let settings = |dir: &std::path::Path| {
        let hints = dir.join("root.hints");
        fs::write(
            &hints,
            ". 3600000 NS ns.root.\nns.root. 3600000 A 127.0.53.1\n",
        )
        .expect("write root hints");
        format!(
            "    module-config: \"iterator\"\n    root-hints: \"{}\"\n    prefetch: no\n\
             \x20   infra-cache-max-rtt: 1000\n    outbound-msg-retry: 2\n{more}",
            hints.display()
        )
    };
    Unbound::start(program, settings, &probe)
}

/// The questions on which `ours` ends elsewhere than `unbound`, each as
/// lines for the failure message, headed by `what`.
fn differences(
    what: &str,
    unbound: SocketAddr,
    ours: SocketAddr,
    questions: &[(&str, RecordType)],
) -> Vec<String> {
    let mut differences = Vec::new();
    for &(qname, qtype) in questions {
        let want = ask(unbound, qname, qtype).map(|msg| Final::of(&msg));
        let have = ask(ours, qname, qtype).map(|msg| Final::of(&msg));
        assert!(want.is_some(), "Unbound did not answer {qname} {qtype}");
        if want != have {
            differences.push(format!(
                "  {what}: {qname} {qtype}:\n    unbound: {want:?}\n    dnslab:  {have:?}"
            ));
        }
    }
    differences
}

/// Unbound is the reference resolver: over the same hierarchy of dnslab
/// servers (CNAME chains across zones, DNAME, glueless and lame
/// delegations, a dead server, truncation, DS, negative answers, loops,
/// and issue 17's odd but real servers), dnslab's resolver must end every
/// question where Unbound does: the same rcode, answer section and
/// authority section. A difference in how a walk ends (a followed chain
/// stopped early, a lame server trusted) shows up here as a different
/// final answer. The same holds without IPv6 upstreams, with stub zones
/// (Unbound's `stub-zone`), and when dnslab forwards every question to
/// Unbound (`--forward-zone .=`): forwarding must give Unbound's answers.
///
/// One test, in phases: the lab's copy on port 53 can be bound once.
#[test]
fn final_answers_match_unbound() {
    let Some(program) = require("unbound", "unbound") else {
        return;
    };
    let Some(_servers) = lab_on_port_53() else {
        return;
    };
    let unbound = start_unbound(&program, "");
    let ours = TestResolver::with(|config| config.upstream_port = DNS_PORT);
    let mut found = differences("iterating", unbound.addr, ours.addr, QUESTIONS);

    let forwarding = TestResolver::with(|config| {
        config.forward_zones = vec![ZoneServers {
            zone: Name::root(),
            servers: vec![unbound.addr],
        }];
    });
    found.extend(differences(
        "forwarding to Unbound",
        unbound.addr,
        forwarding.addr,
        QUESTIONS,
    ));

    let v4_only = TestResolver::with(|config| {
        config.upstream_port = DNS_PORT;
        config.ipv6_upstream = false;
    });
    found.extend(differences(
        "without IPv6",
        unbound.addr,
        v4_only.addr,
        WITHOUT_IPV6,
    ));

    let stub_unbound = start_unbound(
        &program,
        "stub-zone:\n    name: \"example.com\"\n    stub-addr: 127.0.53.4\n\
         stub-zone:\n    name: \"umass.edu\"\n    stub-addr: 127.0.53.6\n",
    );
    let stubbed = TestResolver::with(|config| {
        config.upstream_port = DNS_PORT;
        config.stub_zones = ["example.com.=127.0.53.4", "umass.edu.=127.0.53.6"]
            .iter()
            .map(|text| ZoneServers::parse(text).expect("a stub zone"))
            .collect();
    });
    found.extend(differences(
        "stub zones",
        stub_unbound.addr,
        stubbed.addr,
        STUBBED,
    ));

    let asked = QUESTIONS.len() * 2 + WITHOUT_IPV6.len() + STUBBED.len();
    assert!(
        found.is_empty(),
        "dnslab's resolver differs from Unbound on {} of {asked} questions:\n{}",
        found.len(),
        found.join("\n")
    );
}
