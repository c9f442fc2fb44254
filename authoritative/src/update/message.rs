//! An UPDATE message as read off the wire (RFC 2136 2): the zone it is
//! about, its prerequisite section and its update section. Nothing is
//! judged here beyond what decoding needs; the rules are `super::apply`'s.
//!
//! Sections are decoded by hickory-proto, as zone transfers are: a record
//! with an empty RDATA (RFC 2136's deletes and prerequisites) comes back
//! as `RData::Update0`, and a record that does not decode makes the whole
//! message FORMERR.

use hickory_proto::op::Message;
use hickory_proto::rr::{DNSClass, Name, Record};
use hickory_proto::serialize::binary::BinDecodable;

/// The parts of an UPDATE the server acts on.
#[derive(Clone, Debug)]
pub(crate) struct UpdateMessage {
    /// The zone section's name (ZNAME).
    pub zone: Name,
    /// Its class (ZCLASS): the class of the records that add data.
    pub class: DNSClass,
    /// RFC 2136 2.4: the prerequisite section (the answer section's
    /// place).
    pub prerequisites: Vec<Record>,
    /// RFC 2136 2.5: the update section (the authority section's place).
    pub updates: Vec<Record>,
}

impl UpdateMessage {
    /// Reads an UPDATE whose header and zone section the request check
    /// has accepted (opcode 5, one zone of type SOA); `Err` with what did
    /// not decode (FORMERR).
    pub(crate) fn read(bytes: &[u8]) -> Result<UpdateMessage, String> {
        let mut message = Message::from_bytes(bytes).map_err(|e| e.to_string())?;
        let zone = message
            .queries
            .pop()
            .ok_or_else(|| "no zone section".to_string())?;
        Ok(UpdateMessage {
            zone: zone.name().clone(),
            class: zone.query_class(),
            prerequisites: message.answers,
            updates: message.authorities,
        })
    }

    /// Records in both sections: the work an update asks of the writer.
    pub(crate) fn len(&self) -> usize {
        self.prerequisites.len() + self.updates.len()
    }
}
