//! What both DNS servers share on the wire: reading and checking requests,
//! names, response sizes, and the cache they prepare answers in.
//!
//! The authoritative server and the resolver sit on it side by side, and
//! it sits on the transport: `dnslab-transport` <- `dnslab-wire` <-
//! {`dnslab-authoritative`, `dnslab-resolver`} <- the `dnslab` binary.
//! Neither server depends on the other.
//!
//! - `request`: a query read off the wire (header, question, OPT) without
//!   decoding a whole message: [`parse_request`], [`Request`].
//! - `check`: the one request check (FORMERR, NOTIMP, BADVERS, classes,
//!   zone transfers) and each server's [`Policy`]: [`check_request`].
//! - `edns`: how large a response may be ([`size_limit`]) and the OPT
//!   record that says so.
//! - `ecs`: EDNS Client Subnet (RFC 7871), the network a question is asked
//!   for ([`ClientSubnet`]).
//! - `name`: [`WireName`], the lowercased wire-form name both servers look
//!   things up by, and the canonical order of RFC 4034.
//! - `cidr`: address prefixes for access lists ([`Cidr`]).
//! - `order`: the order of an RRset's records in each response (load
//!   distribution: [`RrsetOrder`], fixed, cyclic or random).
//! - `text`: names as people type them ([`absolute_name`]).
//! - `dname`: DNAME RDATA and substitution (RFC 6672).
//! - `striped`: counters each worker thread writes on cache lines of its
//!   own ([`Striped`]), for the metrics.
//! - `lru`: the one sharded LRU ([`ShardedLru`]), the hash for keys from
//!   the network ([`KeyHasher`]) and the one hand-rolled hasher ([`Fnv`]).

mod check;
mod cidr;
mod dname;
mod ecs;
mod edns;
mod lru;
mod name;
mod order;
mod request;
mod striped;
mod text;

pub use check::{check_request, Policy, Reason, Rejection, Verdict};
pub use cidr::{Cidr, CidrError};
pub use dname::{dname_rdata, dname_target, substitute_dname};
pub use ecs::{truncate, ClientSubnet, EcsError, ECS_IPV4_PREFIX, ECS_IPV6_PREFIX, OPTION_ECS};
pub use edns::{
    opt_len, opt_record, push_opt_record, size_limit, CLASSIC_UDP_LIMIT, DEFAULT_MAX_UDP_PAYLOAD,
    OPT_LEN, TCP_LIMIT,
};
pub use lru::{BuildFnv, Cached, Fnv, KeyHasher, ShardedLru, Slot, SHARDS};
pub use name::{
    canonical_cmp, push_name, NameError, WireLabels, WireName, KEY_SUFFIX_LEN, MAX_NAME_LEN,
};
pub use order::{rotate_rrsets, RrsetOrder, RrsetOrderError, MAX_ROTATIONS};
pub use request::{
    find_edns, parse_request, read_header, records_allowed, skip_name, skip_records, u16_at,
    EdnsQuery, Malformed, Opcodes, ParseError, Request, RequestHeader, CLASS_ANY, CLASS_IN,
    HEADER_LEN, OPCODE_NOTIFY, OPCODE_QUERY, OPCODE_UPDATE, QTYPE_AXFR, QTYPE_IXFR, TYPE_OPT,
    TYPE_SOA, TYPE_TSIG,
};
pub use striped::{Striped, STRIPES};
pub use text::{absolute_name, escaped_name, for_each_byte};
