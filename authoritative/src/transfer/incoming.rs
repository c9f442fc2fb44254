//! Receiving a zone from a primary: the SOA query that says whether there
//! is a new version, and the transfer (AXFR, RFC 5936; IXFR, RFC 1995)
//! that brings it, read message by message and judged as it comes.
//!
//! What a primary sends is network input, and a hostile or broken primary
//! must never get a zone served that it did not fully and correctly send:
//! every transfer is read to its closing SOA (a stream cut short is an
//! error, not a smaller zone), within a time limit, an idle limit per
//! message, and limits on records and octets (the memory an incoming zone
//! may take); a record of another class, outside the zone, or after the
//! closing SOA, a closing SOA that is not the opening one, an answer with
//! another ID, or a TSIG that does not verify, ends it with an error. The
//! zone checks run on the result before it replaces anything
//! (`secondary.rs`).

use std::net::IpAddr;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, Record, RecordType};
use hickory_proto::serialize::binary::BinDecodable;

use super::client::{udp_exchange, ExchangeError, Outgoing, TcpExchange};
use super::encode::Section;
use crate::config::{Remote, TransferLimits};
use crate::zone::diff::{soa_serial, Changeset};
use dnslab_wire::{OPCODE_QUERY, QTYPE_AXFR, QTYPE_IXFR};

/// How long an SOA query waits for its answer (BIND waits 15 s over
/// several tries; one try, then the next primary).
pub(crate) const SOA_QUERY_WAIT: Duration = Duration::from_secs(3);
/// How long connecting and sending a transfer request may take.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// What a transfer brought.
#[derive(Debug)]
pub(crate) enum Received {
    /// IXFR answered with the SOA alone: the primary's serial.
    UpToDate(u32),
    /// The whole zone (AXFR, or IXFR answered AXFR-style): every record,
    /// the SOA once, first.
    Full(Vec<Record>),
    /// The differences from the version asked about to the primary's.
    Incremental(Vec<Changeset>),
}

/// Why a transfer or SOA query failed; nothing it brought is used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransferError {
    #[error("{0}")]
    Exchange(#[from] ExchangeError),
    #[error("the primary answered {0}")]
    Rcode(ResponseCode),
    #[error("a message does not decode: {0}")]
    Decode(String),
    #[error("the answer has no SOA record for the zone")]
    NoSoa,
    #[error("the transfer does not begin with the zone's SOA")]
    NotSoaFirst,
    #[error("record {0} is not of class IN")]
    Class(String),
    #[error("record {0} is outside the zone")]
    OutOfZone(String),
    #[error("the closing SOA (serial {closing}) is not the opening one (serial {opening})")]
    ClosingSoaDiffers { opening: u32, closing: u32 },
    #[error("records follow the closing SOA")]
    AfterClosingSoa,
    #[error("the difference from serial {0} is malformed")]
    MalformedDifference(u32),
    #[error("more than {0} records: the zone is larger than max_zone_records allows")]
    TooManyRecords(usize),
    #[error("more than {0} octets: the transfer is larger than max_transfer_bytes allows")]
    TooManyBytes(u64),
    #[error("not complete within {0:?} (transfer_in_timeout)")]
    TimedOut(Duration),
    #[error("{0}")]
    Install(String),
}

impl TransferError {
    /// The primary refused an IXFR in a way that an AXFR may not be
    /// (BIND falls back to AXFR on these).
    pub(crate) fn ixfr_refused(&self) -> bool {
        matches!(
            self,
            TransferError::Rcode(
                ResponseCode::NotImp | ResponseCode::FormErr | ResponseCode::Refused
            )
        )
    }
}

/// The zone's SOA as `primary` has it now: over UDP, over TCP when the
/// answer is truncated. Must be authoritative (RFC 1996 3.11: the SOA
/// query decides whether there is something new).
pub(crate) async fn query_soa(
    source: Option<IpAddr>,
    primary: &Remote,
    zone: &Name,
) -> Result<Record, TransferError> {
    let request = Outgoing::new(OPCODE_QUERY, zone, RecordType::SOA, None, primary);
    let reply = udp_exchange(source, primary, &request, SOA_QUERY_WAIT).await?;
    let truncated = reply.get(2).is_some_and(|flags| flags & 0x02 != 0);
    let reply = if truncated {
        let mut tcp =
            TcpExchange::start(source, primary, &request, CONNECT_WAIT, SOA_QUERY_WAIT).await?;
        let mut buf = Vec::new();
        tcp.next(&mut buf).await?;
        tcp.finish()?;
        buf
    } else {
        reply
    };
    let message = Message::from_bytes(&reply).map_err(|e| TransferError::Decode(e.to_string()))?;
    if message.metadata.response_code != ResponseCode::NoError {
        return Err(TransferError::Rcode(message.metadata.response_code));
    }
    if !message.metadata.authoritative {
        return Err(TransferError::Rcode(ResponseCode::NotAuth));
    }
    message
        .answers
        .into_iter()
        .find(|r| r.record_type() == RecordType::SOA && r.name == *zone)
        .ok_or(TransferError::NoSoa)
}

/// Transfers `zone` from `primary`: AXFR, or IXFR from `ours` (our SOA),
/// within the time limit of `limits`.
pub(crate) async fn receive(
    source: Option<IpAddr>,
    primary: &Remote,
    zone: &Name,
    ours: Option<&Record>,
    limits: &TransferLimits,
) -> Result<Received, TransferError> {
    let within = limits.transfer_in_timeout;
    let transfer = async {
        let (qtype, record) = match ours {
            Some(soa) => (QTYPE_IXFR, Some((Section::Authority, soa))),
            None => (QTYPE_AXFR, None),
        };
        let request = Outgoing::new(OPCODE_QUERY, zone, RecordType::from(qtype), record, primary);
        let mut exchange = TcpExchange::start(
            source,
            primary,
            &request,
            CONNECT_WAIT,
            limits.transfer_in_idle,
        )
        .await?;
        let mut reader = Reader::new(zone, limits);
        let mut buf = Vec::new();
        let mut first = true;
        loop {
            exchange.next(&mut buf).await?;
            reader.count_bytes(buf.len())?;
            let message =
                Message::from_bytes(&buf).map_err(|e| TransferError::Decode(e.to_string()))?;
            if message.metadata.response_code != ResponseCode::NoError {
                return Err(TransferError::Rcode(message.metadata.response_code));
            }
            let lone_soa = first && message.answers.len() == 1;
            first = false;
            for record in message.answers {
                reader.push(record)?;
            }
            if lone_soa && ours.is_some() {
                // RFC 1995 4: the SOA alone, the client is current.
                exchange.finish()?;
                return reader.up_to_date();
            }
            if reader.complete {
                exchange.finish()?;
                return reader.finish();
            }
        }
    };
    tokio::time::timeout(within, transfer)
        .await
        .map_err(|_| TransferError::TimedOut(within))?
}

/// Where an incremental answer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// Records removed from the version the current difference starts at.
    Removed,
    /// Records added in the version it ends at.
    Added,
}

/// The records of a transfer as they come, judged one by one.
struct Reader<'a> {
    zone: &'a Name,
    limits: &'a TransferLimits,
    bytes: u64,
    /// The opening SOA and its serial.
    opening: Option<(Record, u32)>,
    /// AXFR-style: every record after the opening SOA.
    full: Vec<Record>,
    /// Incremental: the differences so far, and which part is being read.
    differences: Vec<Changeset>,
    part: Option<Part>,
    incremental: bool,
    records: usize,
    complete: bool,
}

impl<'a> Reader<'a> {
    fn new(zone: &'a Name, limits: &'a TransferLimits) -> Reader<'a> {
        Reader {
            zone,
            limits,
            bytes: 0,
            opening: None,
            full: Vec::new(),
            differences: Vec::new(),
            part: None,
            incremental: false,
            records: 0,
            complete: false,
        }
    }

    fn count_bytes(&mut self, len: usize) -> Result<(), TransferError> {
        self.bytes += len as u64;
        if self.bytes > self.limits.max_transfer_bytes {
            return Err(TransferError::TooManyBytes(self.limits.max_transfer_bytes));
        }
        Ok(())
    }

    fn push(&mut self, record: Record) -> Result<(), TransferError> {
        if self.complete {
            return Err(TransferError::AfterClosingSoa);
        }
        self.records += 1;
        if self.records > self.limits.max_zone_records {
            return Err(TransferError::TooManyRecords(self.limits.max_zone_records));
        }
        if record.dns_class != DNSClass::IN {
            return Err(TransferError::Class(record.to_string()));
        }
        if !self.zone.zone_of(&record.name) {
            return Err(TransferError::OutOfZone(record.to_string()));
        }
        let serial = soa_serial(&record);
        let Some((_, opening)) = &self.opening else {
            let serial = serial
                .filter(|_| record.name == *self.zone)
                .ok_or(TransferError::NotSoaFirst)?;
            self.opening = Some((record, serial));
            return Ok(());
        };
        let opening = *opening;
        // The second record decides: an SOA of another serial opens the
        // first difference (RFC 1995 4); anything else is a whole zone.
        if self.records == 2 {
            self.incremental = serial.is_some_and(|s| s != opening);
        }
        if !self.incremental {
            match serial {
                Some(closing) if closing == opening => self.complete = true,
                Some(closing) => return Err(TransferError::ClosingSoaDiffers { opening, closing }),
                None => self.full.push(record),
            }
            return Ok(());
        }
        match (serial, self.part) {
            // An SOA in the additions (or before any difference): the
            // closing SOA, or the start of the next difference.
            (Some(s), None | Some(Part::Added)) if s == opening && self.part.is_some() => {
                self.complete = true;
            }
            (Some(from), None | Some(Part::Added)) => {
                self.differences.push(Changeset {
                    from_serial: from,
                    to_serial: from,
                    removed: vec![record],
                    added: Vec::new(),
                });
                self.part = Some(Part::Removed);
            }
            (Some(to), Some(Part::Removed)) => {
                let difference = self.current()?;
                difference.to_serial = to;
                difference.added.push(record);
                self.part = Some(Part::Added);
            }
            (None, Some(Part::Removed)) => self.current()?.removed.push(record),
            (None, Some(Part::Added)) => self.current()?.added.push(record),
            (None, None) => return Err(TransferError::MalformedDifference(opening)),
        }
        Ok(())
    }

    fn current(&mut self) -> Result<&mut Changeset, TransferError> {
        let opening = self.opening.as_ref().map_or(0, |(_, s)| *s);
        self.differences
            .last_mut()
            .ok_or(TransferError::MalformedDifference(opening))
    }

    fn up_to_date(self) -> Result<Received, TransferError> {
        self.opening
            .map(|(_, serial)| Received::UpToDate(serial))
            .ok_or(TransferError::NotSoaFirst)
    }

    fn finish(self) -> Result<Received, TransferError> {
        let Some((soa, _)) = self.opening else {
            return Err(TransferError::NotSoaFirst);
        };
        if self.incremental {
            return Ok(Received::Incremental(self.differences));
        }
        let mut records = Vec::with_capacity(self.full.len() + 1);
        records.push(soa);
        records.extend(self.full);
        Ok(Received::Full(records))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::store::testing::{name, record};

    fn soa(serial: u32) -> Record {
        record(
            &name("example."),
            &format!("@ 300 IN SOA ns.example. admin.example. {serial} 60 30 600 60"),
        )
    }

    fn a(owner: &str, addr: &str) -> Record {
        record(&name("example."), &format!("{owner} 300 IN A {addr}"))
    }

    fn read(records: Vec<Record>) -> Result<(Received, bool), TransferError> {
        let zone = name("example.");
        let limits = TransferLimits::default();
        let mut reader = Reader::new(&zone, &limits);
        for record in records {
            reader.push(record)?;
        }
        let complete = reader.complete;
        Ok((reader.finish()?, complete))
    }

    #[test]
    fn a_whole_zone_ends_at_its_closing_soa() {
        let (received, complete) = read(vec![soa(5), a("www", "192.0.2.1"), soa(5)]).unwrap();
        assert!(complete);
        let Received::Full(records) = received else {
            panic!("{received:?}")
        };
        assert_eq!(records.len(), 2);
        let (_, complete) = read(vec![soa(5), a("www", "192.0.2.1")]).unwrap();
        assert!(
            !complete,
            "a stream cut before its closing SOA is not complete"
        );
    }

    #[test]
    fn hostile_streams_are_errors() {
        let cases = [
            (vec![a("www", "192.0.2.1")], "NotSoaFirst"),
            (
                vec![soa(5), a("www", "192.0.2.1"), soa(6)],
                "ClosingSoaDiffers",
            ),
            (
                vec![soa(5), soa(5), a("www", "192.0.2.1")],
                "AfterClosingSoa",
            ),
            (
                vec![soa(5), a("www.example.org.", "192.0.2.1")],
                "OutOfZone",
            ),
        ];
        for (records, expected) in cases {
            let error = read(records).expect_err(expected);
            assert!(format!("{error:?}").starts_with(expected), "{error:?}");
        }
        let zone = name("example.");
        let limits = TransferLimits {
            max_zone_records: 2,
            ..TransferLimits::default()
        };
        let mut reader = Reader::new(&zone, &limits);
        reader.push(soa(5)).unwrap();
        reader.push(a("a", "192.0.2.1")).unwrap();
        assert!(matches!(
            reader.push(a("b", "192.0.2.2")),
            Err(TransferError::TooManyRecords(2))
        ));
    }

    #[test]
    fn an_incremental_answer_becomes_its_differences() {
        let records = vec![
            soa(3),
            soa(1),
            a("old", "192.0.2.1"),
            soa(2),
            a("new", "192.0.2.2"),
            soa(2),
            soa(3),
            a("newer", "192.0.2.3"),
            soa(3),
        ];
        let (received, complete) = read(records).unwrap();
        assert!(complete);
        let Received::Incremental(differences) = received else {
            panic!("{received:?}")
        };
        let serials: Vec<(u32, u32, usize, usize)> = differences
            .iter()
            .map(|d| (d.from_serial, d.to_serial, d.removed.len(), d.added.len()))
            .collect();
        assert_eq!(serials, [(1, 2, 2, 2), (2, 3, 1, 2)]);
    }
}
