//! The terminal's view of the walk: `dnslab up` prints every lookup as the
//! textbook's numbered messages, one line each, as they happen:
//!
//! ```text
//!  1  127.0.0.1 -> resolver   gaia.cs.umass.edu. A
//!  2  resolver -> a.root-servers.lab.   edu. A
//!  3  a.root-servers.lab. -> resolver   referral to edu. (a.edu-servers.lab.)   0.3 ms
//! ```
//!
//! It is one more subscriber of the resolver's event bus, like an open
//! page: while it runs, events are built for every lookup. It never slows
//! the resolver: when the terminal falls behind, the bus resyncs it and it
//! says how many messages it skipped.

use std::io::Write;
use std::sync::Arc;

use dnslab_resolver::events::{Delivery, EventBus, Role, Subscription};

/// Subscribes now (so that no lookup after this call is missed) and
/// returns the task that prints until the bus goes away.
pub fn spawn(bus: &Arc<EventBus>) -> tokio::task::JoinHandle<()> {
    let subscription = bus.subscribe(None);
    tokio::spawn(print(subscription))
}

async fn print(mut subscription: Subscription) {
    while let Some(delivery) = subscription.next().await {
        let mut out = std::io::stdout().lock();
        // A closed stdout (a pipe to `head`) ends the printing, not `up`.
        let written = match delivery {
            Delivery::Event(published) => {
                let event = &published.event;
                let mut text = String::new();
                if event.step == 1 {
                    text.push('\n');
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
