//! The messages of a transfer out, one at a time (RFC 5936 2.2): each as
//! full as 16 KiB allows ([`MESSAGE_SIZE`]), the question echoed in the first only (2.2.1),
//! the request's OPT record in each when it had one, each signed when the
//! request was (RFC 8945 5.3.1). What goes in them comes from a [`Records`]
//! source: a whole zone (`axfr.rs`) or a chain of differences (`ixfr.rs`).
//!
//! A [`TransferStream`] is what the transport writes message by message
//! (`dnslab_transport::MessageStream`); it holds the transfer's permit
//! (`transfers_out`) and logs the transfer's end, complete or not.

use std::net::SocketAddr;
use std::time::Instant;

use dnslab_transport::MessageStream;
use dnslab_tsig::{unix_now, ResponseSigner, Verified};
use dnslab_wire::{opt_record, Request, OPT_LEN};
use hickory_proto::rr::Name;
use tokio::sync::OwnedSemaphorePermit;
use tracing::{error, info, warn};

use super::encode::{response_header, Compressor, Header, MessageWriter};

/// The size of a transfer's messages. A TCP message may hold 64 KiB, but
/// dig's parser (BIND's) spends time per record that grows with the
/// records of its message: a million-record AXFR in 64 KiB messages cost
/// dig 1.9 times the CPU of one in 16 KiB messages, the size NSD and Knot
/// send (BIND's `transfer-message-size` is 20 KiB); kdig did not care
/// (bench/README.md). Every compression pointer reaches its target within
/// 16 KiB too.
const MESSAGE_SIZE: usize = 16 * 1024;

/// Where the records of a transfer come from.
pub(super) trait Records: Send + 'static {
    /// Writes records into `msg` until one does not fit or there are no
    /// more; `true` once every record has been written.
    fn fill(&mut self, msg: &mut MessageWriter<'_>) -> bool;

    /// Records written so far, for the log.
    fn written(&self) -> usize;
}

/// Who the transfer is for, for the log line at its end.
pub(super) struct Peer {
    /// This server's name in logs.
    pub server: String,
    pub client: SocketAddr,
    pub zone: Name,
    pub kind: &'static str,
}

/// One transfer's messages.
pub(super) struct TransferStream<R: Records> {
    records: R,
    done: bool,
    header: Header,
    /// The question, echoed in the first message only.
    question: Option<Box<[u8]>>,
    /// The OPT record every message carries when the request had one.
    opt: Option<[u8; OPT_LEN]>,
    signer: ResponseSigner,
    names: Compressor,
    /// Octets of records a message may hold: [`MESSAGE_SIZE`] less OPT
    /// and TSIG.
    limit: usize,
    /// Released when the transfer ends (`transfers_out`).
    _permit: OwnedSemaphorePermit,
    peer: Peer,
    started: Instant,
    messages: usize,
    failed: bool,
}

impl<R: Records> TransferStream<R> {
    pub(super) fn new(
        records: R,
        req: &Request<'_>,
        verified: &Verified,
        max_udp: u16,
        permit: OwnedSemaphorePermit,
        peer: Peer,
    ) -> TransferStream<R> {
        let opt = req.edns.map(|edns| opt_record(max_udp, 0, edns.dnssec_ok));
        let limit = MESSAGE_SIZE - verified.tsig_len() - opt.map_or(0, |opt| opt.len());
        TransferStream {
            records,
            done: false,
            header: header(req),
            question: Some(req.question.into()),
            opt,
            signer: ResponseSigner::new(verified),
            names: Compressor::default(),
            limit,
            _permit: permit,
            peer,
            started: Instant::now(),
            messages: 0,
            failed: false,
        }
    }

    fn fail(&mut self, why: &str) -> bool {
        let Peer {
            server,
            client,
            zone,
            ..
        } = &self.peer;
        error!(%server, %client, %zone, reason = why, "transfer abandoned");
        self.done = true;
        self.failed = true;
        false
    }
}

/// The header of a transfer's messages: the request's ID, RD and CD, AA.
pub(super) fn header(req: &Request<'_>) -> Header {
    response_header(
        req.header.id,
        req.header.opcode,
        req.header.recursion_desired,
        req.header.checking_disabled,
        true,
        0,
    )
}

impl<R: Records> MessageStream for TransferStream<R> {
    fn next_message(&mut self, out: &mut Vec<u8>) -> bool {
        if self.done {
            return false;
        }
        let question = self.question.take();
        let mut names = std::mem::take(&mut self.names);
        let mut msg = MessageWriter::new(
            out,
            &mut names,
            self.header,
            question.as_deref(),
            self.limit,
        );
        self.done = self.records.fill(&mut msg);
        let empty = msg.records() == 0;
        if let Some(opt) = self.opt {
            msg.push_raw_additional(&opt);
        }
        msg.finish();
        self.names = names;
        if empty && !self.done {
            // Only a record larger than a whole message could do this.
            return self.fail("a record does not fit a message");
        }
        if let Err(e) = self.signer.sign(out, unix_now()) {
            return self.fail(&format!("cannot sign a message: {e}"));
        }
        self.messages += 1;
        true
    }
}

impl<R: Records> Drop for TransferStream<R> {
    fn drop(&mut self) {
        let elapsed_ms = self.started.elapsed().as_millis();
        let Peer {
            server,
            client,
            zone,
            kind,
        } = &self.peer;
        let (messages, records) = (self.messages, self.records.written());
        if self.done && !self.failed {
            info!(%server, %client, %zone, kind, messages, records, elapsed_ms, "zone transfer completed");
        } else if !self.failed {
            warn!(%server, %client, %zone, kind, messages, records, elapsed_ms, "zone transfer ended early (connection closed or timed out)");
        }
    }
}
