use std::sync::Arc;

use dnslab_resolver::events::EventBus;
use dnslab_web::{Flush, Web, WebError};
use hickory_proto::rr::{Name, RecordType};
use serde_json::json;

use crate::common::http::{get, post, request};
use crate::common::Server;

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

/// Each control command reaches the backend with what was asked, and
/// answers JSON: ask (through the resolver), flush in its three forms,
/// flush-zone, dump-cache, reload, status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_commands_reach_the_backends() {
    let bus = Arc::new(EventBus::default());
    let (server, resolver, auth) = Server::with_backends(bus.clone()).await;
    let addr = server.addr;

    let asked = post(
        addr,
        "/api/ask",
        r#"{"name": "gaia.cs.umass.edu", "type": "a"}"#,
    )
    .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert_eq!(
        asked.json(),
        json!({
            "name": "gaia.cs.umass.edu.", "type": "A", "lookup": null, "rcode": "NOERROR",
            "answers": ["gaia.cs.umass.edu. 3600 IN A 192.0.2.12"], "authorities": [],
            "ms": 1.5, "error": null,
        }),
        "nobody watches, so no lookup id"
    );
    let _watching = bus.subscribe(None);
    let again = post(addr, "/api/ask", r#"{"name": "gaia.cs.umass.edu."}"#)
        .await
        .json();
    assert_eq!(
        again["lookup"], 1,
        "the type defaults to A; the hit is published"
    );
    assert_eq!(bus.last_id(), 2, "a cache hit is two messages");
    let unknown = post(
        addr,
        "/api/ask",
        r#"{"name": "nope.lab", "type": "TYPE65534"}"#,
    )
    .await
    .json();
    assert_eq!(
        (unknown["rcode"].as_str(), unknown["type"].as_str()),
        (Some("NXDOMAIN"), Some("TYPE65534"))
    );

    for body in [
        r#"{}"#,
        r#"{"name": "gaia.cs.umass.edu"}"#,
        r#"{"name": "gaia.cs.umass.edu", "type": "AAAA"}"#,
    ] {
        let reply = post(addr, "/api/flush", body).await;
        assert_eq!(reply.status, 200, "{body}: {}", reply.body);
        assert!(reply.json()["removed"].is_u64());
    }
    let zone = post(addr, "/api/flush-zone", r#"{"name": "umass.edu"}"#).await;
    assert_eq!(zone.status, 200);
    assert_eq!(
        *resolver.flushes.lock().unwrap(),
        vec![
            Flush::All,
            Flush::Name(name("gaia.cs.umass.edu.")),
            Flush::RRset(name("gaia.cs.umass.edu."), RecordType::AAAA),
            Flush::Zone(name("umass.edu.")),
        ]
    );

    let cache = get(addr, "/api/cache").await.json();
    let origins: Vec<&str> = cache["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["origin"].as_str().unwrap())
        .collect();
    assert_eq!(origins, ["answer", "referral", "glue", "negative"]);
    assert_eq!(
        cache["entries"][0]["line"],
        "gaia.cs.umass.edu. 3542 IN A 192.0.2.12"
    );
    assert_eq!(cache["entries"][0]["ttl_left"], 3542);

    let reloaded = post(addr, "/api/reload", "{}").await;
    assert_eq!(reloaded.status, 200);
    assert_eq!(*auth.reloads.lock().unwrap(), 1);
    assert_eq!(
        reloaded.json()["zones"][1]["error"],
        "cs.umass.edu.zone:9: bad TTL"
    );

    let flushed = post(addr, "/api/zone-flush", r#"{"name": "cs.umass.edu"}"#).await;
    assert_eq!(flushed.status, 200);
    assert_eq!(
        flushed.json()["zones"],
        json!([{"server": "dns.cs.umass.edu.", "zone": "cs.umass.edu.", "serial": 2026112203,
                "file": "cs.umass.edu.zone", "error": null}])
    );
    let unknown = post(addr, "/api/zone-flush", r#"{"name": "example.org"}"#).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json()["error"],
        "no authoritative server here serves zone example.org."
    );

    let status = get(addr, "/api/status").await.json();
    assert_eq!(status["resolver"], true);
    assert_eq!(status["zones"][0]["zone"], ".");
    assert_eq!(status["events"], json!({"published": 2, "subscribers": 1}));

    let stats = get(addr, "/api/stats").await.json();
    assert_eq!(stats["caches"][0]["hits"], 6);
    assert_eq!(stats["zones"][1]["serial"], 2026112202);
}

/// Every refusal is a 4xx with `{"error": ...}`: unknown path, wrong
/// method, not JSON, malformed JSON, unknown fields, a bad name or type,
/// a body over the limit, a name that is not loopback in `Host`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_4xx_with_a_json_error() {
    let bus = Arc::new(EventBus::default());
    let (server, _, _) = Server::with_backends(bus).await;
    let addr = server.addr;
    let big = format!(r#"{{"name": "{}"}}"#, "a".repeat(20_000));
    let cases: Vec<(u16, crate::common::http::Reply, &str)> = vec![
        (404, get(addr, "/nope").await, "/nope"),
        (404, get(addr, "/static/nope.js").await, "nope.js"),
        (405, get(addr, "/api/flush").await, "POST"),
        (405, post(addr, "/metrics", "{}").await, "/metrics"),
        (
            415,
            request(addr, "POST", "/api/flush", &[], Some("{}")).await,
            "application/json",
        ),
        (400, post(addr, "/api/ask", r#"{"name": "#).await, ""),
        (422, post(addr, "/api/ask", r#"{"nam": "x"}"#).await, ""),
        (422, post(addr, "/api/reload", r#"{"all": true}"#).await, ""),
        (
            400,
            post(addr, "/api/ask", r#"{"name": ""}"#).await,
            "empty",
        ),
        (
            400,
            post(addr, "/api/ask", r#"{"name": "a..b"}"#).await,
            "bad name",
        ),
        (
            400,
            post(addr, "/api/ask", r#"{"name": "x", "type": "NOTATYPE"}"#).await,
            "NOTATYPE",
        ),
        (
            400,
            post(addr, "/api/flush", r#"{"type": "A"}"#).await,
            "needs a name",
        ),
        (413, post(addr, "/api/ask", &big).await, ""),
        (
            403,
            request(
                addr,
                "GET",
                "/api/status",
                &[("Host", "rebound.example:8053")],
                None,
            )
            .await,
            "not loopback",
        ),
    ];
    for (status, reply, says) in cases {
        assert_eq!(reply.status, status, "{reply:?}");
        assert!(
            reply
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{reply:?}"
        );
        let error = reply.json()["error"].as_str().map(str::to_string);
        let error = error.unwrap_or_else(|| panic!("no error text: {reply:?}"));
        assert!(
            error.contains(says),
            "{status}: {error:?} should say {says:?}"
        );
    }
    let localhost = request(
        addr,
        "GET",
        "/api/status",
        &[("Host", "localhost:8053")],
        None,
    )
    .await;
    assert_eq!(localhost.status, 200);
}

/// Without a resolver (a standalone `dnslab auth --web`) the resolver's
/// routes answer 501; without zones, reload does; the rest works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_backends_answer_501() {
    let server = Server::start(Web::new(Arc::new(EventBus::default()))).await;
    let addr = server.addr;
    for (method, path) in [
        ("POST", "/api/ask"),
        ("GET", "/api/cache"),
        ("POST", "/api/flush"),
        ("POST", "/api/flush-zone"),
        ("POST", "/api/reload"),
        ("POST", "/api/zone-flush"),
    ] {
        let body = if ["/api/ask", "/api/flush-zone", "/api/zone-flush"].contains(&path) {
            r#"{"name": "example."}"#
        } else {
            "{}"
        };
        let reply = if method == "GET" {
            get(addr, path).await
        } else {
            post(addr, path, body).await
        };
        assert_eq!(reply.status, 501, "{path}: {reply:?}");
        assert!(reply.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("this server runs no "));
    }
    let status = get(addr, "/api/status").await.json();
    assert_eq!(
        (status["resolver"].clone(), status["zones"].clone()),
        (json!(false), json!(null))
    );
    let page = get(addr, "/").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg id=\"figure\""));
    for file in ["style.css", "figure.js", "app.js", "zones.js"] {
        let reply = get(addr, &format!("/static/{file}")).await;
        assert_eq!(reply.status, 200, "{file}");
        assert!(!reply.body.is_empty());
    }
    assert_eq!(
        get(addr, "/static/app.js").await.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
}

/// The page refuses to listen beyond loopback unless told to: the
/// control API has no authentication.
#[tokio::test]
async fn only_loopback_unless_allowed() {
    let refused = dnslab_web::bind("192.0.2.1:8053".parse().unwrap(), false).await;
    assert!(
        matches!(refused, Err(WebError::NotLoopback { .. })),
        "{refused:?}"
    );
    assert!(refused
        .unwrap_err()
        .to_string()
        .contains("not a loopback address"));
    let v6 = dnslab_web::bind("[::1]:0".parse().unwrap(), false).await;
    // IPv6 may be disabled on the machine; then binding fails, but not
    // for being non-loopback.
    assert!(!matches!(v6, Err(WebError::NotLoopback { .. })));
}
