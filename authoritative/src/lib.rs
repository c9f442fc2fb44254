//! The authoritative server: zones loaded from RFC 1035 master files and
//! answered as RFC 1034 4.3.2 says.
//!
//! - [`zone`]: reading master files, checking zones, the in-memory store.
//! - [`lookup`]: RFC 1034 4.3.2 as one function from catalog, name and type
//!   to the records of a response.
//! - the request path (wire parsing, EDNS, prepared answers) and the server
//!   glue plug a [`dnslab_transport::Handler`] into the shared transport.

pub mod lookup;
pub mod zone;
