//! Unit tests across the crate's modules: known answers from real tools
//! (`kat`), the server's checks of a request (`request`), and whole
//! exchanges — responses, multi-message responses, error replies — as the
//! client side sees them (`exchange`).

mod exchange;
mod kat;
mod request;

use crate::record;
use crate::wire;
use crate::{Algorithm, Key, KeyRing};

pub const SECRET: &str = "sxxbTbF0fZ5SAcswZgMJuG1uWJKPvT/QADP8akrBQ0E=";
/// A time well inside 48 bits: 2026-12-07.
pub const NOW: u64 = 1_796_602_692;

pub fn key(algorithm: Algorithm) -> Key {
    Key::from_text("test.key.", algorithm.name(), SECRET).expect("test key")
}

pub fn ring(keys: impl IntoIterator<Item = Key>) -> KeyRing {
    keys.into_iter().collect()
}

/// A query for `example.com. A` with ID 0x1234 and RD.
pub fn query() -> Vec<u8> {
    let mut msg = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    msg.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
    msg
}

/// A response to [`query`] with `records` A records, for multi-message
/// responses.
pub fn response(records: u16) -> Vec<u8> {
    let mut msg = vec![0x12, 0x34, 0x85, 0x00, 0, 1];
    msg.extend_from_slice(&records.to_be_bytes());
    msg.extend_from_slice(&[0, 0, 0, 0]);
    msg.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
    for n in 0..records {
        msg.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\xc0\x00\x02");
        msg.push(n as u8);
    }
    msg
}

/// The message without its TSIG record, ARCOUNT one less: as it was
/// before it was signed (with the ID it has now).
pub fn strip_tsig(msg: &[u8]) -> Vec<u8> {
    let tsig = record::find(msg).expect("well formed").expect("signed");
    let mut stripped = msg[..tsig.start].to_vec();
    let arcount = wire::u16_at(msg, wire::ARCOUNT_AT).unwrap();
    wire::set_arcount(&mut stripped, arcount - 1).unwrap();
    stripped
}

/// The Error field and MAC of the message's TSIG record.
pub fn tsig_error_and_mac(msg: &[u8]) -> (u16, Vec<u8>) {
    let tsig = record::find(msg).expect("well formed").expect("signed");
    (tsig.error, tsig.mac.to_vec())
}
