//! The terminal's view of the walk: `dnslab up` prints every lookup as the
//! textbook's numbered messages, one line each, as they happen:
//!
//! ```text
//!  1  127.0.0.1 -> resolver   gaia.cs.umass.edu. A
//!  2  resolver -> a.root-servers.lab.   edu. A
//!  3  a.root-servers.lab. -> resolver   referral to edu. (a.edu-servers.lab.)   0.3 ms
//! ```
//!
//! When `up` runs several local DNS servers (the two ISPs), each lookup
//! starts with a line naming the one it was asked of:
//!
//! ```text
//!    asked of ISP in the west (127.0.1.1:1053)
//!  1  127.0.0.1 -> resolver   video.netcinema.com. A
//! ```
//!
//! The servers' NOTIFY and transfers are printed too, one line each, as
//! they happen after the start (those of the start are on the page):
//!
//! ```text
//! zone  a.root-servers.lab. -> b.root-servers.lab.  NOTIFY .  serial 2026120702
//! zone  a.root-servers.lab. -> b.root-servers.lab.  IXFR .  serial 2026120701 -> 2026120702  2 changes  3.1 ms
//! ```
//!
//! It is one more subscriber of the resolver's event bus, like an open
//! page: while it runs, events are built for every lookup. It never slows
//! the resolver: when the terminal falls behind, the bus resyncs it and it
//! says how many messages it skipped.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use dnslab_resolver::events::{Delivery, EventBus, Role, Subscription};
use dnslab_web::ZoneLog;
use tokio::sync::broadcast::error::RecvError;

/// Subscribes now (so that no lookup after this call is missed) and
/// returns the task that prints until the bus goes away. `resolvers` maps
/// each local DNS server's address ("127.0.1.1:1053") to its name; with
/// more than one, every lookup says whose it is.
pub fn spawn(
    bus: &Arc<EventBus>,
    resolvers: HashMap<String, String>,
) -> tokio::task::JoinHandle<()> {
    let subscription = bus.subscribe(None);
    let names = if resolvers.len() > 1 {
        resolvers
    } else {
        HashMap::new()
    };
    tokio::spawn(print(subscription, names))
}

async fn print(mut subscription: Subscription, resolvers: HashMap<String, String>) {
    while let Some(delivery) = subscription.next().await {
        let mut out = std::io::stdout().lock();
        // A closed stdout (a pipe to `head`) ends the printing, not `up`.
        let written = match delivery {
            Delivery::Event(published) => {
                let event = &published.event;
                let mut text = String::new();
                if event.step == 1 {
                    text.push('\n');
                    let asked = event.to.addr.as_ref();
                    if let Some((addr, name)) = asked.and_then(|a| resolvers.get_key_value(a)) {
                        text.push_str(&format!("   asked of {name} ({addr})\n"));
                    }
                }
                text.push_str(&event.to_string());
                text.push('\n');
                // What the client got, under its answer.
                if event.to.role == Role::Client {
                    for record in &event.records {
                        text.push_str("      ");
                        text.push_str(record);
                        text.push('\n');
                    }
                }
                out.write_all(text.as_bytes())
            }
            Delivery::Resync { missed } => {
                writeln!(
                    out,
                    "   ({missed} messages not shown: the terminal fell behind)"
                )
            }
        };
        if written.and_then(|()| out.flush()).is_err() {
            return;
        }
    }
}

/// Subscribes to the servers' zone events now and returns the task that
/// prints them, one line each, until the log goes away.
pub fn spawn_zones(log: &ZoneLog) -> tokio::task::JoinHandle<()> {
    let mut live = log.subscribe();
    tokio::spawn(async move {
        loop {
            let line = match live.recv().await {
                Ok(entry) => entry.to_string(),
                Err(RecvError::Lagged(missed)) => {
                    format!("   ({missed} zone events not shown: the terminal fell behind)")
                }
                Err(RecvError::Closed) => return,
            };
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return;
            }
        }
    })
}
