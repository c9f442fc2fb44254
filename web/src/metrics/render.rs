//! The Prometheus text exposition format (version 0.0.4): `# HELP` and
//! `# TYPE` once per family, then one sample per line, label values
//! escaped. Families without samples are left out, so a server without a
//! resolver shows no cache metrics.

use std::fmt::{Display, Write};

use super::MetricsSnapshot;

/// The content type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders the snapshot for `/metrics`.
pub fn render(snapshot: &MetricsSnapshot) -> String {
    let mut out = Exposition::default();
    let s = snapshot;

    out.family(
        "dnslab_dns_queries_total",
        "counter",
        "DNS queries answered, by server, protocol, query type and response code.",
    );
    for q in &s.queries {
        let labels = [
            ("server", q.server.as_str()),
            ("proto", q.proto.as_str()),
            ("type", q.qtype.as_str()),
            ("rcode", q.rcode.as_str()),
        ];
        out.sample("", &labels, q.count);
    }

    counters(
        &mut out,
        &s.caches,
        |c| ("server", &c.server),
        [
            (
                "dnslab_cache_hits_total",
                "Client questions answered from the resolver's cache.",
                |c| c.hits,
            ),
            (
                "dnslab_cache_misses_total",
                "Client questions the resolver's cache could not answer whole (walked, or with RD=0 answered with what it had).",
                |c| c.misses,
            ),
        ],
    );
    out.family(
        "dnslab_cache_entries",
        "gauge",
        "Entries in the resolver's cache: RRsets (negative answers included) and delegations.",
    );
    for cache in &s.caches {
        out.sample(
            "",
            &[("server", &cache.server), ("type", "rrset")],
            cache.rrsets,
        );
        out.sample(
            "",
            &[("server", &cache.server), ("type", "delegation")],
            cache.delegations,
        );
    }

    counters(
        &mut out,
        &s.upstreams,
        |u| ("to", &u.to),
        [
            (
                "dnslab_upstream_queries_total",
                "Queries the resolver sent to each upstream server (UDP and TCP attempts).",
                |u| u.queries,
            ),
            (
                "dnslab_upstream_timeouts_total",
                "Upstream queries that got no response in time.",
                |u| u.timeouts,
            ),
            (
                "dnslab_upstream_lame_total",
                "Upstream responses the resolver could not use (REFUSED, not authoritative, out of bailiwick).",
                |u| u.lame,
            ),
        ],
    );

    out.family(
        "dnslab_resolution_duration_seconds",
        "histogram",
        "Time from a client's question to the resolver's answer, for questions that needed a walk (cache hits are counted, not timed).",
    );
    for times in &s.resolution {
        let h = &times.histogram;
        let server = ("server", times.server.as_str());
        for (bound, count) in h.bounds.iter().zip(&h.cumulative) {
            let le = bound.to_string();
            out.sample("_bucket", &[server, ("le", &le)], count);
        }
        out.sample("_bucket", &[server, ("le", "+Inf")], h.count);
        out.sample("_sum", &[server], h.sum);
        out.sample("_count", &[server], h.count);
    }

    out.family(
        "dnslab_zone_serial",
        "gauge",
        "The SOA serial of each zone each server serves.",
    );
    for zone in &s.zones {
        out.sample(
            "",
            &[("server", &zone.server), ("zone", &zone.zone)],
            zone.serial,
        );
    }

    out.family(
        "dnslab_events_published_total",
        "counter",
        "Walk events published to the live page since start (built only while someone watches).",
    );
    out.sample("", &[], s.events.published);
    out.family(
        "dnslab_events_subscribers",
        "gauge",
        "Event streams (open pages) now.",
    );
    out.sample("", &[], s.events.subscribers);

    out.text
}

/// A counter family's name, help, and value for one item.
type Counter<T> = (&'static str, &'static str, fn(&T) -> u64);

/// Counter families that share their items and their one label.
fn counters<T, const N: usize>(
    out: &mut Exposition,
    items: &[T],
    label: for<'a> fn(&'a T) -> (&'static str, &'a str),
    families: [Counter<T>; N],
) {
    for (name, help, value) in families {
        out.family(name, "counter", help);
        for item in items {
            out.sample("", &[label(item)], value(item));
        }
    }
}

/// The text being written, and the family whose header is still due.
#[derive(Default)]
struct Exposition {
    text: String,
    /// Name, type and help of the current family; its header is written
    /// before its first sample, so that empty families leave no trace.
    pending: Option<(&'static str, &'static str, &'static str)>,
    name: &'static str,
}

impl Exposition {
    fn family(&mut self, name: &'static str, kind: &'static str, help: &'static str) {
        self.pending = Some((name, kind, help));
        self.name = name;
    }

    fn sample(&mut self, suffix: &str, labels: &[(&str, &str)], value: impl Display) {
        if let Some((name, kind, help)) = self.pending.take() {
            let _ = writeln!(self.text, "# HELP {name} {}", escape(help, false));
            let _ = writeln!(self.text, "# TYPE {name} {kind}");
        }
        self.text.push_str(self.name);
        self.text.push_str(suffix);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (label, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{label}=\"{}\"", escape(value, true));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }
}

/// Escapes `\` and newlines (and in label values `"`), as the format says.
fn escape(text: &str, label_value: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if label_value => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{CacheCounts, QueryCount};
    use crate::metrics::{Histogram, Proto};

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd", true), "a\\\"b\\\\c\\nd");
        assert_eq!(escape("say \"hi\"", false), "say \"hi\"");
    }

    #[test]
    fn empty_families_are_left_out_and_the_rest_have_one_header() {
        let snapshot = MetricsSnapshot {
            queries: vec![
                QueryCount {
                    server: "dns://127.0.0.1:1053".into(),
                    proto: Proto::Udp,
                    qtype: "A".into(),
                    rcode: "NOERROR".into(),
                    count: 3,
                },
                QueryCount {
                    server: "dns://127.0.0.1:1053".into(),
                    proto: Proto::Tcp,
                    qtype: "MX".into(),
                    rcode: "NXDOMAIN".into(),
                    count: 1,
                },
            ],
            caches: vec![CacheCounts {
                server: "dns://127.0.0.1:1053".into(),
                hits: 5,
                misses: 2,
                rrsets: 7,
                delegations: 3,
            }],
            ..MetricsSnapshot::default()
        };
        let text = render(&snapshot);
        assert_eq!(
            text.matches("# TYPE dnslab_dns_queries_total counter")
                .count(),
            1
        );
        assert!(text.contains(
            "dnslab_dns_queries_total{server=\"dns://127.0.0.1:1053\",proto=\"tcp\",type=\"MX\",rcode=\"NXDOMAIN\"} 1\n"
        ));
        assert!(text.contains("# TYPE dnslab_cache_entries gauge\n"));
        assert!(text.contains(
            "dnslab_cache_entries{server=\"dns://127.0.0.1:1053\",type=\"delegation\"} 3\n"
        ));
        assert!(!text.contains("dnslab_zone_serial"));
        assert!(!text.contains("dnslab_resolution_duration_seconds"));
    }

    #[test]
    fn a_histogram_has_cumulative_buckets_sum_and_count() {
        let histogram = Histogram::default();
        histogram.observe(std::time::Duration::from_micros(700));
        let snapshot = MetricsSnapshot {
            resolution: vec![crate::metrics::ResolutionTimes {
                server: "r".into(),
                histogram: histogram.snapshot(),
            }],
            ..MetricsSnapshot::default()
        };
        let text = render(&snapshot);
        assert!(text
            .contains("dnslab_resolution_duration_seconds_bucket{server=\"r\",le=\"0.0005\"} 0\n"));
        assert!(text
            .contains("dnslab_resolution_duration_seconds_bucket{server=\"r\",le=\"0.001\"} 1\n"));
        assert!(text
            .contains("dnslab_resolution_duration_seconds_bucket{server=\"r\",le=\"+Inf\"} 1\n"));
        assert!(text.contains("dnslab_resolution_duration_seconds_sum{server=\"r\"} 0.0007\n"));
        assert!(text.contains("dnslab_resolution_duration_seconds_count{server=\"r\"} 1\n"));
    }
}
