//! What [`lookup`](super::lookup) returns: what happened, not records to
//! reinterpret. A [`Lookup`] is the alias steps followed (each a CNAME, a
//! wildcard's CNAME or a DNAME, with the zone and node it came from) and
//! how the lookup [`End`]ed, with the names the DNSSEC proofs need: the
//! zone, the closest encloser of a name that does not exist, the cut of a
//! referral.
//!
//! Its readers match on it: [`Lookup::into_records`] writes the plain
//! response, `crate::dnssec` the response with signatures and proofs, and
//! `crate::prepared` names it in the query log.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record};

use crate::zone::{Node, Zone};

/// One question's lookup: the alias steps it followed, how it ended, and
/// the addresses of step 6.
#[derive(Debug)]
pub(crate) struct Lookup<'c> {
    /// The CNAME and DNAME steps, in the order followed, from QNAME on.
    pub(crate) aliases: Vec<Alias<'c>>,
    pub(crate) end: End<'c>,
    /// Step 6: the A and AAAA records of the names the answer's NS, MX and
    /// SRV records point to.
    pub(crate) additionals: Vec<Record>,
}

/// The node a name matched in step 3 (RFC 1034 4.3.2).
#[derive(Clone, Debug)]
pub(crate) enum Match<'c> {
    /// 3.a: the name's own node (for NODATA, maybe an empty non-terminal).
    Exact(Node<'c>),
    /// 3.c: the name does not exist, and the wildcard `star`, the `*`
    /// child of its closest `encloser` (RFC 4592 3.3.1), answers for it.
    Wildcard { star: Node<'c>, encloser: Name },
}

/// One step of a CNAME or DNAME chain: its records go in the answer
/// section, and the lookup continues at `target`.
#[derive(Debug)]
pub(crate) struct Alias<'c> {
    /// The zone the step was taken in.
    pub(crate) zone: &'c Zone,
    /// The name the step was taken for: QNAME, then each target in turn.
    pub(crate) name: Name,
    pub(crate) kind: AliasKind<'c>,
    /// The CNAME; or the DNAME and the CNAME synthesised from it.
    pub(crate) records: Vec<Record>,
    pub(crate) target: Name,
}

/// Where an alias step's records came from.
#[derive(Debug)]
pub(crate) enum AliasKind<'c> {
    /// A CNAME at the node `name` matched: its own, or a wildcard's.
    Cname(Match<'c>),
    /// RFC 6672 3.2: the DNAME at `owner`, a proper ancestor of the name,
    /// and the CNAME synthesised from it.
    Dname { owner: Node<'c> },
}

/// How a lookup ended: in the zone of its last step, except when it never
/// started (REFUSED) or its chain stopped.
#[derive(Debug)]
pub(crate) enum End<'c> {
    /// Step 2: no zone of ours encloses QNAME.
    Refused,
    /// 3.a: the RRsets of the type at `name` (for ANY, the first RRset; for
    /// a CNAME, RRSIG or NSEC question at a CNAME, the records asked for).
    Answer {
        zone: &'c Zone,
        name: Name,
        found: Match<'c>,
        records: Vec<Record>,
    },
    /// 3.a: `name`, or the wildcard answering for it, has no RRset of the
    /// type (an empty non-terminal has none at all).
    NoData {
        zone: &'c Zone,
        name: Name,
        found: Match<'c>,
    },
    /// 3.c: no node at `name`, and no wildcard below its closest
    /// `encloser`.
    NxDomain {
        zone: &'c Zone,
        name: Name,
        encloser: Name,
    },
    /// 3.b: the name is at or below `cut`, where `zone` delegates: the NS
    /// RRset of the cut, and the addresses `zone` has for its targets.
    Referral {
        zone: &'c Zone,
        cut: Node<'c>,
        ns: Vec<Record>,
        glue: Vec<Record>,
    },
    /// RFC 6672 2.2: the DNAME at `owner` would make the name longer than
    /// 255 octets.
    YxDomain {
        zone: &'c Zone,
        owner: Node<'c>,
        dname: Record,
    },
    /// The last alias points out of our zones: the chain is the answer,
    /// and the resolver follows it.
    OutOfZones,
    /// The chain looped or reached `MAX_CHAIN` steps: the answer is the
    /// chain so far.
    ChainStopped,
}

/// The records of a response, section by section, with its RCODE and AA
/// flag: a [`Lookup`] written out, plainly ([`Lookup::into_records`]) or
/// with DNSSEC's records (`crate::dnssec`), for `crate::prepared` to
/// encode. Owner names are as stored in the zone (or the name asked, for
/// records synthesised from a wildcard or a DNAME); the request layer
/// echoes the question as asked.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ResponseRecords {
    pub(crate) rcode: ResponseCode,
    /// The AA flag.
    pub(crate) authoritative: bool,
    pub(crate) answers: Vec<Record>,
    pub(crate) authority: Vec<Record>,
    pub(crate) additionals: Vec<Record>,
}

impl<'c> Lookup<'c> {
    /// NXDOMAIN and YXDOMAIN are the last name's (RFC 6604 2.1); REFUSED
    /// when no zone of ours holds QNAME; NOERROR otherwise.
    pub(crate) fn rcode(&self) -> ResponseCode {
        match self.end {
            End::Refused => ResponseCode::Refused,
            End::NxDomain { .. } => ResponseCode::NXDomain,
            End::YxDomain { .. } => ResponseCode::YXDomain,
            _ => ResponseCode::NoError,
        }
    }

    /// The zone the question itself was answered from: its first alias
    /// step's, else the end's; `None` when no zone of ours holds it.
    pub(crate) fn zone(&self) -> Option<&'c Zone> {
        if let Some(first) = self.aliases.first() {
            return Some(first.zone);
        }
        match self.end {
            End::Answer { zone, .. }
            | End::NoData { zone, .. }
            | End::NxDomain { zone, .. }
            | End::Referral { zone, .. }
            | End::YxDomain { zone, .. } => Some(zone),
            End::Refused | End::OutOfZones | End::ChainStopped => None,
        }
    }

    /// The AA flag: set when the first step was answered from a zone's own
    /// data. A referral that ends a chain keeps it: the chain's first
    /// answer was authoritative.
    pub(crate) fn authoritative(&self) -> bool {
        match self.end {
            End::Refused => false,
            End::Referral { .. } => !self.aliases.is_empty(),
            _ => true,
        }
    }

    /// The plain response: the chain and the answer in the answer section;
    /// the zone's SOA (RFC 2308 3) for NODATA and NXDOMAIN, or the
    /// referral's NS, in authority; the referral's glue, or step 6's
    /// addresses, in additional.
    pub(crate) fn into_records(self) -> ResponseRecords {
        let rcode = self.rcode();
        let authoritative = self.authoritative();
        let mut answers: Vec<Record> = self
            .aliases
            .into_iter()
            .flat_map(|alias| alias.records)
            .collect();
        let mut authority = Vec::new();
        let mut additionals = Vec::new();
        match self.end {
            End::Answer { records, .. } => answers.extend(records),
            End::YxDomain { dname, .. } => answers.push(dname),
            End::NoData { zone, .. } | End::NxDomain { zone, .. } => {
                authority.push(zone.negative_soa());
            }
            End::Referral { ns, glue, .. } => {
                authority = ns;
                additionals = glue;
            }
            End::Refused | End::OutOfZones | End::ChainStopped => {}
        }
        additionals.extend(self.additionals);
        ResponseRecords {
            rcode,
            authoritative,
            answers,
            authority,
            additionals,
        }
    }
}
