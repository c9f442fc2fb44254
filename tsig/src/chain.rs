//! The running state of a multi-message response (RFC 8945 5.3.1), the
//! same on both ends: the server signing AXFR messages and the client
//! verifying them walk the same chain of MACs.
//!
//! "The first message is processed as in Section 5.3 [its digest covers
//! the request MAC and all TSIG variables] ... subsequent messages: Prior
//! MAC, DNS Messages [every unsigned message since the last signed one],
//! TSIG Timers." At most 99 messages in a row may go unsigned; the first
//! and the last must be signed.

use std::sync::Arc;

use crate::mac::MacState;
use crate::record::Covers;
use crate::Key;

/// RFC 8945 5.3.1: a TSIG "MUST be included on ... the last message, and
/// every 100th message", so at most 99 in a row go unsigned.
pub(crate) const MAX_UNSIGNED_IN_A_ROW: usize = 99;

/// Why a message cannot go unsigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unsignable {
    First,
    TooMany,
}

#[derive(Clone)]
pub(crate) struct Chain {
    pub key: Arc<Key>,
    /// The request MAC, then the MAC of the last signed message.
    prior_mac: Vec<u8>,
    /// True until the first message is signed.
    first: bool,
    /// The digest of the unsigned messages since the last signed one,
    /// opened with the prior MAC.
    pending: Option<MacState>,
    unsigned_in_a_row: usize,
}

impl Chain {
    pub fn new(key: Arc<Key>, request_mac: Vec<u8>) -> Chain {
        Chain {
            key,
            prior_mac: request_mac,
            first: true,
            pending: None,
            unsigned_in_a_row: 0,
        }
    }

    /// What the next signed message's digest ends with.
    pub fn covers(&self) -> Covers {
        if self.first {
            Covers::Variables
        } else {
            Covers::Timers
        }
    }

    /// Whether unsigned messages wait for a signed one.
    pub fn has_unsigned(&self) -> bool {
        self.unsigned_in_a_row > 0
    }

    /// The next signed message's digest so far: opened with the request or
    /// prior MAC, then every unsigned message since.
    pub fn take_digest(&mut self) -> MacState {
        self.pending
            .take()
            .unwrap_or_else(|| MacState::after_mac(&self.key, &self.prior_mac))
    }

    /// Adds an unsigned message to the next signed message's digest.
    pub fn unsigned(&mut self, msg: &[u8]) -> Result<(), Unsignable> {
        if self.first {
            return Err(Unsignable::First);
        }
        if self.unsigned_in_a_row == MAX_UNSIGNED_IN_A_ROW {
            return Err(Unsignable::TooMany);
        }
        let mut digest = self.take_digest();
        digest.update(msg);
        self.pending = Some(digest);
        self.unsigned_in_a_row += 1;
        Ok(())
    }

    /// Records a message signed (or verified) with `mac`: the prior MAC of
    /// the next one.
    pub fn signed(&mut self, mac: Vec<u8>) {
        self.prior_mac = mac;
        self.first = false;
        self.pending = None;
        self.unsigned_in_a_row = 0;
    }
}
