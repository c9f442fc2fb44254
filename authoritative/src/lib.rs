//! The authoritative server: zones loaded from RFC 1035 master files and
//! answered as RFC 1034 4.3.2 says; zones copied between servers (AXFR,
//! IXFR, NOTIFY) with TSIG.
//!
//! The modules, along a query's path:
//! - `zone`: reading master files (`reader`), checking zones as
//!   `named-checkzone` does (`check`), the in-memory store (`store`) and
//!   the NSEC3 chain of a signed zone;
//! - `lookup`: RFC 1034 4.3.2 as one function from catalog, name and type
//!   to what it found (answer, NODATA, NXDOMAIN, referral, the alias steps
//!   on the way, each with the node it came from);
//! - `dnssec`: that outcome written out with signatures and denial proofs,
//!   for queries with DO;
//! - `views`: answers chosen by who asks (a zone's views, the client's
//!   address or its EDNS Client Subnet), each view a catalog of its own;
//! - the request path: `dnslab_wire` reads and checks a query off the wire,
//!   `prepared` holds the encoded answers per (name, type, DO, view), in
//!   each rotation of their RRsets (load distribution), `respond`
//!   writes the response (EDNS, truncation), `handler` ties them into a
//!   [`dnslab_transport::Handler`];
//! - `server`: [`AuthServer`], its zones (primaries from files, secondaries
//!   from their primaries), their snapshot, reload and the replacement of
//!   one zone;
//! - `config`: what the server is told to do ([`AuthConfig`]), validated;
//! - `transfer`: zone transfers out, NOTIFY in and out, the secondaries'
//!   refresh, TSIG on every request that carries it, and what transfers
//!   keep in the data directory;
//! - state that survives a restart: `data_dir` (the `--data-dir`
//!   directory, files replaced atomically), `journal` (each zone's
//!   changes, durable before they are acknowledged), with `zone`'s
//!   changesets (`diff`), serial arithmetic (`serial`), records in wire
//!   form (`wire`) and master files written back (`writer`).
//!
//! The modules are private; what other crates use is re-exported below,
//! and nothing else is public (`unreachable_pub` keeps the rest
//! `pub(crate)`): the server, its options and configuration, and for
//! `dnslab check`, `dnslab up` and the tests, reading and checking master
//! files without serving them.

#![warn(unreachable_pub)]

mod config;
mod data_dir;
mod dnssec;
mod handler;
mod journal;
mod lookup;
mod prepared;
mod respond;
mod server;
#[cfg(test)]
mod temp_dir;
mod transfer;
mod update;
mod views;
mod zone;

// Serving zones.
pub use server::{
    AuthOptions, AuthServer, BackgroundTasks, LoadErrors, LoadFailure, LoadedZone, ReloadSummary,
    ZoneSource, ZoneSourceError,
};
// What the server is told to do.
pub use config::{
    allowed, AccessRule, AuthConfig, Remote, RemoteSpec, Role, SyntaxError, TransferLimits,
    ZoneConfig, DEFAULT_DATA_DIR, DNS_PORT,
};
// NOTIFY and transfers, as the live view watches them.
pub use transfer::{TransferKind, ZoneEvent, ZoneObserver};
// Dynamic updates: the rules of a zone, and writing it back to its file.
pub use update::{FlushError, Flushed, NameMatch, Names, UpdateConfig, UpdateRule};
// Answers by who asks.
pub use views::{check_views, View, ViewData, ViewError, ViewProblem, ViewRecords};
// Master files: read, checked, built into a zone.
pub use zone::check::{check_zone, CheckedRecord, Problem, ProblemKind};
pub use zone::reader::{read_master_file, MasterFile, ReadError, ReadErrorKind, Warning};
pub use zone::{
    load_zone, read_and_build, CatalogError, Location, SourcedRecord, Zone, ZoneBuild,
    ZoneFileError, ZoneSummary,
};
