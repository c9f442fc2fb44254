//! One resolution with an empty cache, recorded exchange by exchange, for
//! `dnslab trace` (what `dig +trace` shows, but done by our own walk, so it
//! shows what the resolver really does: glueless lookups, lame servers,
//! CNAME restarts, minimised names).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use hickory_proto::rr::{Name, Record, RecordType};

use crate::classify::{Classified, Conclusion, Restart};
use crate::iterate::Walk;
use crate::upstream::UpstreamError;
use crate::{Resolution, ResolveError, Resolver, ResolverConfig};

/// One upstream exchange.
#[derive(Clone, Debug)]
pub struct Step {
    pub server_name: Name,
    pub server: SocketAddr,
    pub qname: Name,
    pub qtype: RecordType,
    /// The zone the server was asked about (what bailiwick it had).
    pub zone: Name,
    pub outcome: StepOutcome,
    pub elapsed: Duration,
    pub via_tcp: bool,
    /// 0 for the question itself, 1+ inside name-server address lookups.
    pub depth: u32,
}

/// What one exchange yielded.
#[derive(Clone, Debug, PartialEq)]
pub enum StepOutcome {
    Referral { zone: Name, servers: Vec<Name> },
    Answer { records: Vec<Record> },
    Cname { target: Name },
    NxDomain,
    NoData,
    Lame { reason: String },
    Failed { error: String },
}

impl StepOutcome {
    pub(crate) fn new(classified: &Result<Classified, UpstreamError>) -> StepOutcome {
        match classified {
            Ok(Classified::Referral(d)) => StepOutcome::Referral {
                zone: d.zone.clone(),
                servers: d.servers.clone(),
            },
            Ok(Classified::Conclusion(Conclusion::Answer { records })) => StepOutcome::Answer {
                records: records.clone(),
            },
            Ok(Classified::Restart(Restart { target, .. })) => StepOutcome::Cname {
                target: target.clone(),
            },
            Ok(Classified::Conclusion(Conclusion::NxDomain { .. })) => StepOutcome::NxDomain,
            Ok(Classified::Conclusion(Conclusion::NoData { .. })) => StepOutcome::NoData,
            Ok(Classified::Lame(reason)) => StepOutcome::Lame {
                reason: reason.to_string(),
            },
            Err(error) => StepOutcome::Failed {
                error: error.to_string(),
            },
        }
    }

    /// A short word for the kind of outcome (the JSON `kind` field).
    pub fn kind(&self) -> &'static str {
        match self {
            StepOutcome::Referral { .. } => "referral",
            StepOutcome::Answer { .. } => "answer",
            StepOutcome::Cname { .. } => "cname",
            StepOutcome::NxDomain => "nxdomain",
            StepOutcome::NoData => "nodata",
            StepOutcome::Lame { .. } => "lame",
            StepOutcome::Failed { .. } => "failed",
        }
    }
}

impl fmt::Display for StepOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepOutcome::Referral { zone, servers } => {
                let servers: Vec<String> = servers.iter().map(Name::to_string).collect();
                write!(f, "referral to {zone} ({})", servers.join(" "))
            }
            StepOutcome::Answer { records } => write!(f, "answer ({} records)", records.len()),
            StepOutcome::Cname { target } => write!(f, "CNAME, restart at {target}"),
            StepOutcome::NxDomain => write!(f, "NXDOMAIN"),
            StepOutcome::NoData => write!(f, "NODATA"),
            StepOutcome::Lame { reason } => write!(f, "lame: {reason}"),
            StepOutcome::Failed { error } => write!(f, "no answer: {error}"),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let indent = "  ".repeat(self.depth as usize);
        let tcp = if self.via_tcp { " (TCP)" } else { "" };
        write!(
            f,
            "{indent};; {} {:?} @{} ({}) -> {} in {:.2} ms{tcp}",
            self.qname,
            self.qtype,
            self.server_name,
            self.server,
            self.outcome,
            // Loopback steps take well under a millisecond.
            self.elapsed.as_secs_f64() * 1000.0
        )
    }
}

/// A whole traced resolution.
#[derive(Debug)]
pub struct Trace {
    pub steps: Vec<Step>,
    pub result: Result<Resolution, ResolveError>,
    /// Upstream queries sent in total.
    pub queries: u64,
}

/// Resolves one question with a fresh, empty cache, recording every step.
pub async fn trace(config: ResolverConfig, mut name: Name, rtype: RecordType) -> Trace {
    name.set_fqdn(true);
    let resolver = Resolver::new(config);
    let steps = Mutex::new(Vec::new());
    let result = Walk::new(&resolver.inner, Some(&steps))
        .resolve(&name, rtype)
        .await;
    Trace {
        steps: steps
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
        result,
        queries: resolver.stats().upstream_queries,
    }
}
