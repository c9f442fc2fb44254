//! Writing a zone's records as an RFC 1035 master file: what `dnslab ctl
//! zone-flush` writes back over a zone's file after dynamic updates, and
//! what a secondary keeps of a transferred zone in its data directory.
//!
//! The file is written for the reader ([`super::reader`]) first and for
//! people second, the way Knot writes a flushed zone:
//! - a header comment saying dnslab wrote it, at which serial, and that
//!   the comments and layout of the file it came from are not kept;
//! - `$ORIGIN` the zone's name; no `$TTL`: every record carries its TTL
//!   and class (`IN`), one record per line;
//! - the SOA first, then the records by owner name in canonical order (RFC
//!   4034 6.1) and by type, records of one RRset in the order given;
//! - owner names relative to the origin (`@` for the apex, as a person
//!   writes them), names inside record data absolute; both escaped as RFC
//!   1035 5.1 says, `\DDD` in decimal.
//!
//! Record data:
//! - the common types (A, AAAA, NS, CNAME, PTR, ANAME, MX, SRV, SOA, TXT)
//!   are written here;
//! - the types the reader keeps as wire bytes are written in their
//!   presentation form (`writer/presentation.rs`): DNAME, DS, CDS, DNSKEY,
//!   CDNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM, RP, LOC, SPF, URI;
//! - the other types hickory-proto knows (CAA, SSHFP, TLSA, NAPTR, HINFO,
//!   CERT, OPENPGPKEY, ...) in hickory's presentation form, each line read
//!   back as it is written: when it does not read back as the same record,
//!   it is written in RFC 3597 `\#` form instead; SVCB and HTTPS always
//!   in `\#` form, since hickory writes their `alpn` in a form BIND
//!   refuses;
//! - types without a mnemonic, and data a type's presentation cannot
//!   express (a DS without digest, a LOC of another version), as RFC 3597
//!   `\# LENGTH HEX`, which every reader accepts for every type.
//!
//! So reading the file back gives exactly the records written: same
//! owners (with their case), TTLs, types and data.

mod presentation;

use std::fmt::Write as _;
use std::io::{self, Write};

use dnslab_wire::{canonical_cmp, WireName};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::reader::{read_line, type_mnemonic};
use super::wire::{encode_record, rdata_wire};
use presentation::{push_absolute, push_generic, push_label, push_string, wire_kept_text};

/// Writes `records`, the zone `origin`, as a master file to `out`.
/// Records outside the zone are written with absolute owners; a record
/// that cannot be encoded at all is an `InvalidData` error naming it.
pub(crate) fn write_zone(origin: &Name, records: &[Record], out: impl Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let soa = records
        .iter()
        .position(|r| r.record_type() == RecordType::SOA);
    let serial = soa.and_then(|at| match &records[at].data {
        RData::SOA(SOA { serial, .. }) => Some(serial.to_string()),
        _ => None,
    });
    let mut origin_text = String::new();
    push_absolute(origin, &mut origin_text);
    writeln!(
        out,
        "; Zone {origin_text} at serial {}, written by dnslab.\n\
         ; Only the records are kept: the comments and layout of the file\n\
         ; the zone was read from are not (as when Knot flushes a zone).\n\
         $ORIGIN {origin_text}",
        serial.as_deref().unwrap_or("(none: no SOA)"),
    )?;

    // The SOA first, then canonical order of owners, then types; a
    // stable sort keeps an RRset's records in the order given.
    let owners: Vec<Vec<u8>> = records
        .iter()
        .map(|r| WireName::new(&r.name).bytes().to_vec())
        .collect();
    let mut order: Vec<usize> = (0..records.len()).filter(|&at| Some(at) != soa).collect();
    order.sort_by(|&a, &b| {
        canonical_cmp(&owners[a], &owners[b])
            .then_with(|| u16::from(records[a].record_type()).cmp(&records[b].record_type().into()))
    });
    let mut line = String::with_capacity(128);
    for at in soa.into_iter().chain(order) {
        line.clear();
        record_line(origin, &records[at], &mut line)?;
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

/// [`write_zone`] into a string.
#[cfg(test)]
pub(crate) fn zone_text(origin: &Name, records: &[Record]) -> io::Result<String> {
    let mut bytes = Vec::new();
    write_zone(origin, records, &mut bytes)?;
    // Every byte written is ASCII: names and strings are escaped.
    String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// One record as a line, without the newline.
fn record_line(origin: &Name, record: &Record, line: &mut String) -> io::Result<()> {
    push_owner(origin, &record.name, line);
    let rtype = record.record_type();
    let _ = write!(line, "\t{}\tIN\t{}\t", record.ttl, type_mnemonic(rtype));
    let start = line.len();
    if push_common(&record.data, line) {
        return Ok(());
    }
    if let RData::Unknown { rdata, .. } = &record.data {
        match wire_kept_text(rtype, &rdata.anything) {
            Some(text) => line.push_str(&text),
            None => push_generic(&rdata.anything, line),
        }
        return Ok(());
    }
    // hickory's presentation, kept only when it reads back the same.
    if !GENERIC_ONLY.contains(&rtype) {
        let _ = write!(line, "{}", record.data);
        if reads_back(origin, record, line) {
            return Ok(());
        }
        line.truncate(start);
    }
    let wire = rdata_wire(&record.data).map_err(|e| unwritable(record, &e.to_string()))?;
    push_generic(&wire, line);
    if reads_back(origin, record, line) {
        Ok(())
    } else {
        Err(unwritable(record, "its data does not read back"))
    }
}

/// Types whose hickory presentation other servers refuse: hickory-proto
/// 0.26 ends an SVCB or HTTPS `alpn` list with a comma (`alpn=h2,`), a
/// syntax error to BIND. Written as `\#` instead.
const GENERIC_ONLY: [RecordType; 2] = [RecordType::SVCB, RecordType::HTTPS];

fn unwritable(record: &Record, reason: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("cannot write {record}: {reason}"),
    )
}

/// Whether `line` reads back as exactly `record`: owner with its case,
/// TTL, type and data, compared in wire form.
fn reads_back(origin: &Name, record: &Record, line: &str) -> bool {
    let wire = |record: &Record| {
        let mut bytes = Vec::new();
        encode_record(record, &mut bytes).ok().map(|()| bytes)
    };
    match read_line(line, origin) {
        Ok(back) => wire(&back).is_some() && wire(&back) == wire(record),
        Err(_) => false,
    }
}

/// The data of the types written here; `false` for the others.
fn push_common(data: &RData, line: &mut String) -> bool {
    match data {
        RData::A(a) => {
            let _ = write!(line, "{a}");
        }
        RData::AAAA(aaaa) => {
            let _ = write!(line, "{aaaa}");
        }
        RData::NS(ns) => push_absolute(&ns.0, line),
        RData::CNAME(cname) => push_absolute(&cname.0, line),
        RData::PTR(ptr) => push_absolute(&ptr.0, line),
        RData::ANAME(aname) => push_absolute(&aname.0, line),
        RData::MX(mx) => {
            let _ = write!(line, "{} ", mx.preference);
            push_absolute(&mx.exchange, line);
        }
        RData::SRV(srv) => {
            let _ = write!(line, "{} {} {} ", srv.priority, srv.weight, srv.port);
            push_absolute(&srv.target, line);
        }
        RData::SOA(soa) => {
            push_absolute(&soa.mname, line);
            line.push(' ');
            push_absolute(&soa.rname, line);
            let _ = write!(
                line,
                " {} {} {} {} {}",
                soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum
            );
        }
        // A TXT of no strings has no presentation; `\#` it is.
        RData::TXT(txt) if !txt.txt_data.is_empty() => {
            for (i, string) in txt.txt_data.iter().enumerate() {
                if i > 0 {
                    line.push(' ');
                }
                push_string(string, line);
            }
        }
        _ => return false,
    }
    true
}

/// `owner` relative to `origin` (`@` for the origin itself), absolute when
/// it is not below the origin.
fn push_owner(origin: &Name, owner: &Name, line: &mut String) {
    if !origin.zone_of(owner) {
        push_absolute(owner, line);
        return;
    }
    // Counted by iterating: `num_labels` leaves out a wildcard's `*`
    // (RFC 4034 3.1.3).
    let relative = owner.iter().count() - origin.iter().count();
    if relative == 0 {
        line.push('@');
        return;
    }
    for (i, label) in owner.iter().take(relative).enumerate() {
        if i > 0 {
            line.push('.');
        }
        push_label(label, line);
    }
}

#[cfg(test)]
mod tests;
