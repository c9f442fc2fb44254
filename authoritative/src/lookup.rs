//! RFC 1034 4.3.2 as one pure function: [`lookup`]. (Signatures published; body being written.)

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};

use crate::zone::Catalog;

/// The records and flags of an authoritative response.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub rcode: ResponseCode,
    pub authoritative: bool,
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    pub additionals: Vec<Record>,
}

/// Answers `qname`/`qtype` from the zones of `catalog`.
pub fn lookup(catalog: &Catalog, qname: &Name, qtype: RecordType) -> Response {
    let _ = (qname, qtype);
    let _ = catalog;
    Response {
        rcode: ResponseCode::Refused,
        authoritative: false,
        answers: Vec::new(),
        authority: Vec::new(),
        additionals: Vec::new(),
    }
}
