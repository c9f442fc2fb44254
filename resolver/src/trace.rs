//! One resolution with an empty cache, recorded message by message, for
//! `dnslab trace` (what `dig +trace` shows, but done by our own walk, so it
//! shows what the resolver really does: glueless lookups, lame servers,
//! CNAME restarts, minimised names). The messages are the live page's
//! [`WalkEvent`]s, collected by the same [`crate::recorder`]: one schema
//! for `trace --json` and `/api/events`.

use hickory_proto::rr::{Name, RecordType};

use crate::events::{Endpoint, Kind, WalkEvent};
use crate::iterate::Walk;
use crate::recorder::Recorder;
use crate::{Resolution, ResolveError, Resolver, ResolverConfig};

/// A whole traced resolution.
#[derive(Debug)]
pub struct Trace {
    /// Every message, numbered: the question, each upstream query and
    /// response, the answer.
    pub events: Vec<WalkEvent>,
    pub result: Result<Resolution, ResolveError>,
    /// Upstream queries sent in total.
    pub queries: u64,
}

impl Trace {
    /// The upstream exchanges' responses (and timeouts), in order.
    pub fn responses(&self) -> impl Iterator<Item = &WalkEvent> {
        self.events
            .iter()
            .filter(|e| e.kind != Kind::Query && e.to.role == crate::events::Role::Resolver)
    }
}

/// Resolves one question with a fresh, empty cache, recording every step.
pub async fn trace(config: ResolverConfig, mut name: Name, rtype: RecordType) -> Trace {
    name.set_fqdn(true);
    let resolver = Resolver::new(config);
    let recorder = Recorder::collecting(Endpoint::named_client("dnslab trace"), &name, rtype);
    let result = Walk::new(&resolver.inner, Some(&recorder))
        .resolve(&name, rtype)
        .await;
    recorder.finish(&result, false);
    Trace {
        events: recorder.into_events(),
        result,
        queries: resolver.stats().upstream_queries,
    }
}
