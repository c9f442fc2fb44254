use std::collections::HashMap;
use std::sync::Arc;

use dnslab_resolver::events::EventBus;
use prometheus_parse::{Scrape, Value};

use crate::common::http::get;
use crate::common::{gaia_walk, publish, Server, RESOLVER};

/// The value of the sample `name{labels}`; panics naming it when absent.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let wanted: HashMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && *s.labels == wanted)
        .unwrap_or_else(|| panic!("no sample {name}{labels:?}"));
    match &sample.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        other => panic!("{name}: unexpected {other:?}"),
    }
}

/// `/metrics`, read by a Prometheus text parser that is not ours, shows
/// exactly the counts the backends hold: queries by server, protocol,
/// type and rcode (resolver and authoritative), cache hits, misses and
/// entries, per-upstream queries, timeouts and lame answers, the
/// resolution-time histogram, zone serials, and the event bus.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_back_with_exact_values() {
    let bus = Arc::new(EventBus::default());
    let (server, _, _) = Server::with_backends(bus.clone()).await;
    let _watching = bus.subscribe(None);
    publish(&bus, gaia_walk).unwrap();

    let reply = get(server.addr, "/metrics").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let lines = reply.body.lines().map(|l| Ok(l.to_string()));
    let scrape = Scrape::parse(lines).expect("valid exposition format");
    let resolver = format!("dns://{RESOLVER}");
    let r = resolver.as_str();

    let q = "dnslab_dns_queries_total";
    let labels = |server, proto, qtype, rcode| {
        [
            ("server", server),
            ("proto", proto),
            ("type", qtype),
            ("rcode", rcode),
        ]
    };
    assert_eq!(value(&scrape, q, &labels(r, "udp", "A", "NOERROR")), 7.0);
    assert_eq!(value(&scrape, q, &labels(r, "udp", "MX", "NXDOMAIN")), 2.0);
    assert_eq!(value(&scrape, q, &labels(r, "tcp", "TXT", "NOERROR")), 1.0);
    assert_eq!(
        value(
            &scrape,
            q,
            &labels("dns://127.0.0.2:5300", "udp", "A", "NOERROR")
        ),
        4.0
    );
    assert_eq!(scrape.samples.iter().filter(|s| s.metric == q).count(), 4);

    assert_eq!(
        value(&scrape, "dnslab_cache_hits_total", &[("server", r)]),
        6.0
    );
    assert_eq!(
        value(&scrape, "dnslab_cache_misses_total", &[("server", r)]),
        3.0
    );
    assert_eq!(
        value(
            &scrape,
            "dnslab_cache_entries",
            &[("server", r), ("type", "rrset")]
        ),
        11.0
    );
    assert_eq!(
        value(
            &scrape,
            "dnslab_cache_entries",
            &[("server", r), ("type", "delegation")]
        ),
        4.0
    );

    assert_eq!(
        value(
            &scrape,
            "dnslab_upstream_queries_total",
            &[("to", "127.0.0.2:5300")]
        ),
        3.0
    );
    assert_eq!(
        value(
            &scrape,
            "dnslab_upstream_timeouts_total",
            &[("to", "127.0.0.6:5300")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &scrape,
            "dnslab_upstream_lame_total",
            &[("to", "127.0.0.9:5300")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &scrape,
            "dnslab_upstream_lame_total",
            &[("to", "127.0.0.2:5300")]
        ),
        0.0
    );

    let histogram = scrape
        .samples
        .iter()
        .find(|s| s.metric == "dnslab_resolution_duration_seconds")
        .expect("the histogram");
    assert_eq!(histogram.labels.get("server"), Some(r));
    let Value::Histogram(buckets) = &histogram.value else {
        panic!("not a histogram: {:?}", histogram.value)
    };
    let count_at = |le: f64| {
        buckets
            .iter()
            .find(|b| b.less_than == le || (b.less_than - le).abs() < 1e-12)
            .unwrap_or_else(|| panic!("no bucket le={le}"))
            .count
    };
    assert_eq!(count_at(0.00005), 6.0, "six cache hits of 20 us");
    assert_eq!(count_at(0.001), 6.0);
    assert_eq!(count_at(0.0025), 8.0, "two walks of 1.5 ms");
    assert_eq!(count_at(0.5), 8.0);
    assert_eq!(count_at(1.0), 9.0, "one slow walk of 900 ms");
    assert_eq!(count_at(f64::INFINITY), 9.0);
    assert!(reply
        .body
        .contains("dnslab_resolution_duration_seconds_count{server=\"dns://127.0.0.1:1053\"} 9\n"));
    assert!(reply.body.contains(
        "dnslab_resolution_duration_seconds_sum{server=\"dns://127.0.0.1:1053\"} 0.90312\n"
    ));

    assert_eq!(
        value(
            &scrape,
            "dnslab_zone_serial",
            &[("server", "a.root-servers.lab."), ("zone", ".")]
        ),
        2026112201.0
    );
    assert_eq!(
        value(
            &scrape,
            "dnslab_zone_serial",
            &[("server", "dns.cs.umass.edu."), ("zone", "cs.umass.edu.")]
        ),
        2026112202.0
    );
    assert_eq!(value(&scrape, "dnslab_events_published_total", &[]), 10.0);
    assert_eq!(value(&scrape, "dnslab_events_subscribers", &[]), 1.0);

    // Every family is declared once, with the type its name promises.
    for (family, kind) in [
        ("dnslab_dns_queries_total", "counter"),
        ("dnslab_cache_entries", "gauge"),
        ("dnslab_resolution_duration_seconds", "histogram"),
        ("dnslab_zone_serial", "gauge"),
    ] {
        assert_eq!(
            reply.body.matches(&format!("# TYPE {family} ")).count(),
            1,
            "{family}"
        );
        assert!(
            reply.body.contains(&format!("# TYPE {family} {kind}\n")),
            "{family}"
        );
    }
}

/// A server with no backend still serves the bus's own metrics, and no
/// empty family.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_backends_only_the_event_metrics_show() {
    let server = Server::start(dnslab_web::Web::new(Arc::new(EventBus::default()))).await;
    let body = get(server.addr, "/metrics").await.body;
    let families: Vec<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .collect();
    assert_eq!(
        families,
        [
            "dnslab_events_published_total counter",
            "dnslab_events_subscribers gauge"
        ]
    );
}
