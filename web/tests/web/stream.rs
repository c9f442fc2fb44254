use std::sync::Arc;
use std::time::Duration;

use dnslab_resolver::events::{EventBus, Kind, Role, WalkEvent};
use dnslab_web::Web;

use crate::common::http::EventStream;
use crate::common::{gaia_cache_hit, gaia_walk, publish, Server};

/// Waits until the server has registered `n` subscribers: the stream's
/// headers arrive before the handler's subscription is visible to a test
/// on another thread only in the order the runtime chose.
async fn watched_by(bus: &EventBus, n: usize) {
    for _ in 0..200 {
        if bus.watchers() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("expected {n} subscribers, have {}", bus.watchers());
}

fn decode(data: &str) -> WalkEvent {
    serde_json::from_str(data).unwrap_or_else(|e| panic!("not a walk event ({e}): {data}"))
}

/// The textbook's ten messages arrive in order, one SSE message each:
/// `id:` the sequence number, then `data:` the event's JSON, then a blank
/// line; the cache hit that follows is exactly two more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_as_sse_messages_with_ids_in_order() {
    let bus = Arc::new(EventBus::default());
    let server = Server::start(Web::new(bus.clone())).await;
    assert!(!bus.watched(), "nobody watches before a page opens");
    let mut stream = EventStream::open(server.addr, None, None).await;
    assert_eq!(stream.status, 200);
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    watched_by(&bus, 1).await;

    let walk = publish(&bus, gaia_walk).expect("published while watched");
    let hit = publish(&bus, |id| gaia_cache_hit(id, 3595)).unwrap();
    assert_ne!(walk, hit);
    let expected: Vec<WalkEvent> = gaia_walk(walk)
        .into_iter()
        .chain(gaia_cache_hit(hit, 3595))
        .collect();
    for (n, want) in expected.iter().enumerate() {
        let message = stream.next().await.expect("a message");
        let id = (n + 1).to_string();
        assert_eq!(message.id.as_deref(), Some(id.as_str()));
        assert_eq!(message.event, None, "walk events are plain messages");
        assert!(
            message.raw.starts_with(&format!("id: {id}\ndata: {{"))
                && message.raw.ends_with("}\n\n"),
            "framing: {:?}",
            message.raw
        );
        assert_eq!(&decode(&message.data), want);
    }
    let roles: Vec<(Role, Role)> = expected[..10]
        .iter()
        .map(|e| (e.from.role, e.to.role))
        .collect();
    assert_eq!(roles[0], (Role::Client, Role::Resolver));
    assert_eq!(roles[2], (Role::Root, Role::Resolver));
    assert_eq!(roles[3], (Role::Resolver, Role::Tld));
    assert_eq!(roles[8], (Role::Authoritative, Role::Resolver));
    assert_eq!(roles[9], (Role::Resolver, Role::Client));
    assert_eq!(expected[11].kind, Kind::CacheHit);

    drop(stream);
    watched_by(&bus, 0).await;
    assert_eq!(
        publish(&bus, gaia_walk),
        None,
        "no events once the page is gone"
    );
}

/// A browser that reconnects with `Last-Event-ID: 4` is sent 5 to 10 from
/// the ring, then what happens next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_event_id_replays_what_followed_from_the_ring() {
    let bus = Arc::new(EventBus::default());
    let server = Server::start(Web::new(bus.clone())).await;
    for event in gaia_walk(1) {
        bus.publish(event);
    }
    let mut stream = EventStream::open(server.addr, Some("4"), None).await;
    for id in 5..=10 {
        let message = stream.next().await.unwrap();
        assert_eq!(message.id, Some(id.to_string()));
        assert_eq!(decode(&message.data).step, id as u32);
    }
    watched_by(&bus, 1).await;
    let mut next = gaia_cache_hit(2, 3599).remove(0);
    next.lookup = 2;
    bus.publish(next.clone());
    let message = stream.next().await.unwrap();
    assert_eq!(message.id.as_deref(), Some("11"));
    assert_eq!(decode(&message.data), next);
}

/// Asked to replay from an id the ring no longer holds, the stream says
/// how many events are lost (`event: resync`), then replays what it has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_from_before_the_ring_begins_with_resync() {
    let bus = Arc::new(EventBus::new(8, 8));
    let server = Server::start(Web::new(bus.clone())).await;
    for lookup in 1..=2 {
        for event in gaia_walk(lookup) {
            bus.publish(event);
        }
    }
    // Ids 1..=20 published; the ring holds 13..=20.
    let mut stream = EventStream::open(server.addr, Some("2"), None).await;
    let resync = stream.next().await.unwrap();
    assert_eq!(resync.event.as_deref(), Some("resync"));
    assert_eq!(resync.id, None);
    assert_eq!(resync.data, r#"{"missed":10}"#);
    let first = stream.next().await.unwrap();
    assert_eq!(first.id.as_deref(), Some("13"));

    let reply = crate::common::http::request(
        server.addr,
        "GET",
        "/api/events",
        &[("Last-Event-ID", "four")],
        None,
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(reply.json()["error"]
        .as_str()
        .unwrap()
        .contains("Last-Event-ID"));
}

/// A page that stops reading while a burst of lookups goes on is not
/// buffered for: the server drops what the page cannot take, tells it so
/// with `event: resync`, and goes on with the latest events. What reaches
/// it is a small part of the burst, and the ring stays at its size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscriber_is_resynced_and_memory_stays_bounded() {
    const BURST: u64 = 20_000;
    let bus = Arc::new(EventBus::new(64, 16));
    let server = Server::start(Web::new(bus.clone())).await;
    let mut slow = EventStream::open(server.addr, None, Some(4096)).await;
    watched_by(&bus, 1).await;
    let template = gaia_walk(1).remove(3);
    for lookup in 0..BURST {
        let mut event = template.clone();
        event.lookup = lookup;
        bus.publish(event);
        if lookup % 1000 == 0 {
            // Let the server's task run, as a real resolver's would.
            tokio::task::yield_now().await;
        }
    }
    assert_eq!(bus.held(), 64, "the ring never holds more than its size");

    let (mut data, mut resyncs, mut missed) = (0u64, 0u64, 0u64);
    let mut last_id = 0;
    while last_id < BURST {
        let message = slow.next().await.expect("the stream stays open");
        match message.event.as_deref() {
            Some("resync") => {
                resyncs += 1;
                let json: serde_json::Value = serde_json::from_str(&message.data).unwrap();
                missed += json["missed"].as_u64().unwrap();
            }
            _ => {
                data += 1;
                let id: u64 = message.id.unwrap().parse().unwrap();
                assert!(id > last_id, "ids only grow: {id} after {last_id}");
                last_id = id;
            }
        }
    }
    assert!(resyncs >= 1, "the slow page was told it missed events");
    assert_eq!(
        data + missed,
        BURST,
        "every event was either delivered or counted as missed"
    );
    assert!(
        data < BURST / 4,
        "only a bounded part of the burst was buffered for the slow page: {data} of {BURST} ({} bytes)",
        slow.received
    );
}

/// At shutdown the open event streams end, so `serve` returns instead of
/// waiting for pages that never close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_end_at_shutdown() {
    let bus = Arc::new(EventBus::default());
    let mut server = Server::start(Web::new(bus.clone())).await;
    let mut stream = EventStream::open(server.addr, None, None).await;
    watched_by(&bus, 1).await;
    server.shutdown().await.expect("serve returns cleanly");
    assert!(stream.next().await.is_none(), "the stream ends");
    watched_by(&bus, 0).await;
}

/// Beyond the connection cap, a client waits in the backlog until a slot
/// frees; it is served then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let bus = Arc::new(EventBus::default());
    let server = Server::start(Web::new(bus.clone()).max_connections(2)).await;
    let first = EventStream::open(server.addr, None, None).await;
    let _second = EventStream::open(server.addr, None, None).await;
    watched_by(&bus, 2).await;
    let addr = server.addr;
    let third = tokio::spawn(async move { crate::common::http::get(addr, "/api/status").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !third.is_finished(),
        "a third connection is not served while two are open"
    );
    drop(first);
    let reply = tokio::time::timeout(Duration::from_secs(5), third)
        .await
        .expect("served once a slot is free")
        .unwrap();
    assert_eq!(reply.status, 200);
}

/// A quiet stream gets a comment line every 15 seconds, so that neither a
/// proxy nor the browser takes it for dead; the first block tells the
/// browser to retry after a second when the stream drops.
#[tokio::test(start_paused = true)]
async fn a_quiet_stream_gets_keep_alive_comments() {
    let bus = Arc::new(EventBus::default());
    let server = Server::start(Web::new(bus)).await;
    let mut stream = EventStream::open(server.addr, None, None).await;
    let hello = stream.next_comment().await.unwrap();
    assert_eq!(hello.raw, ": dnslab walk events\nretry: 1000\n\n");
    let started = tokio::time::Instant::now();
    let keep_alive = stream.next_comment().await.unwrap();
    assert_eq!(keep_alive.raw, ":\n\n");
    assert_eq!(started.elapsed().as_secs(), 15);
}
