//! The resolver behind the web server: the page's Ask box and Flush
//! button, `dnslab ctl`'s cache commands, and its part of `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use dnslab_resolver::events::{rcode_name, Endpoint};
use dnslab_resolver::Resolver;
use dnslab_web::metrics::{CacheCounts, MetricsSnapshot, ResolutionTimes, UpstreamCounts};
use dnslab_web::{Asked, BoxFuture, CacheLine, Flush, ResolverControl};
use hickory_proto::rr::{Name, RecordType};

use super::counted::ServerCounters;

/// A running resolver, named in the metrics as the address clients ask
/// it on (CoreDNS's `server` label: "dns://127.0.0.1:1053").
pub struct ResolverBackend {
    resolver: Resolver,
    server: String,
    counters: Arc<ServerCounters>,
}

impl ResolverBackend {
    pub fn new(
        resolver: Resolver,
        listening: std::net::SocketAddr,
        counters: Arc<ServerCounters>,
    ) -> ResolverBackend {
        ResolverBackend {
            resolver,
            server: format!("dns://{listening}"),
            counters,
        }
    }
}

impl ResolverControl for ResolverBackend {
    fn ask(&self, name: Name, qtype: RecordType) -> BoxFuture<'_, Asked> {
        Box::pin(async move {
            let started = Instant::now();
            let client = Endpoint::named_client("web page");
            let (result, lookup) = self.resolver.resolve_for(client, name, qtype).await;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let lines = |records: &[hickory_proto::rr::Record]| {
                records.iter().map(ToString::to_string).collect()
            };
            match result {
                Ok(resolution) => Asked {
                    lookup,
                    rcode: rcode_name(resolution.rcode),
                    answers: lines(&resolution.answers),
                    authorities: lines(&resolution.authorities),
                    ms,
                    error: None,
                },
                Err(error) => Asked {
                    lookup,
                    rcode: "SERVFAIL".to_string(),
                    ms,
                    error: Some(error.to_string()),
                    ..Asked::default()
                },
            }
        })
    }

    fn flush(&self, what: &Flush) -> usize {
        self.resolver.flush(what)
    }

    fn dump_cache(&self) -> Vec<CacheLine> {
        self.resolver.dump_cache()
    }

    fn fill_metrics(&self, snapshot: &mut MetricsSnapshot) {
        let server = &self.server;
        self.counters.queries.add_to(server, &mut snapshot.queries);
        let metrics = self.resolver.metrics();
        let stats = self.resolver.stats();
        snapshot.caches.push(CacheCounts {
            server: server.clone(),
            hits: metrics.cache_hits,
            misses: metrics.cache_misses,
            rrsets: stats.cached_rrsets as u64,
            delegations: stats.cached_delegations as u64,
        });
        snapshot
            .upstreams
            .extend(metrics.upstreams.iter().map(|u| UpstreamCounts {
                to:
                    u.to.map_or_else(|| "other".to_string(), |to| to.to_string()),
                queries: u.queries,
                timeouts: u.timeouts,
                lame: u.lame,
            }));
        snapshot.resolution.push(ResolutionTimes {
            server: server.clone(),
            histogram: self.counters.resolution.snapshot(),
        });
    }
}
