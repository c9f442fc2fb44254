//! Many datagrams per system call. At a few microseconds of CPU per query
//! the `recvfrom`/`sendto` pair is a third of the budget
//! (`../shared/PERFORMANCE.md` beside the repository); on Linux, `recvmmsg(2)` takes every
//! datagram already queued (up to [`BATCH`]) and `sendmmsg(2)` sends all
//! their answers at once. When queries arrive one at a time this costs the
//! same as the plain calls. Elsewhere a batch holds one datagram.
//!
//! Most of the transport's `unsafe` code is here: the two system calls, the
//! C headers they read, and the peer addresses they fill in. The rest is
//! one `setsockopt` in `bind` (DF on answers) and the registration of a
//! UDP socket with its worker's runtime in `udp` (see the crate doc).

use std::io;
use std::net::{SocketAddr, UdpSocket};

use socket2::SockAddr;
use tracing::debug;

/// Datagrams per system call. Below saturation few are queued and a batch
/// costs what one datagram does. Near it, a larger batch also means the
/// answers reach each client in fewer, larger bursts, so the kernel wakes
/// the client's threads less often: on the lab's resolver benchmark 64
/// made cache hits measurably cheaper than 16 (figures in
/// bench/README.md). The slots are 4 MiB of address space, of which only
/// the pages datagrams touch are mapped.
pub(crate) const BATCH: usize = 64;

/// Datagrams per call in an event loop ([`Wait::No`]): there, each query
/// may start work (a resolver miss) that the loop runs between batches,
/// and smaller batches keep that work flowing.
pub(crate) const EVENT_BATCH: usize = 16;

/// The largest UDP payload over IPv4 or IPv6 without jumbograms; each slot
/// holds any datagram whole, so none is silently truncated.
const MAX_DATAGRAM: usize = 65_535;

/// Distance between the starts of two receive slots: 64 KiB plus one cache
/// line. With a power-of-two stride every slot's first line (the only one
/// a query touches) falls in the same cache set, so a batch of 64 evicts
/// itself from L1 and L2 on every pass; the extra line gives each slot a
/// set of its own.
const SLOT_STRIDE: usize = (MAX_DATAGRAM + 1) + 64;

/// Whether [`Inbox::receive`] may wait for a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Block (up to the socket's read timeout) for the first datagram.
    ForOne,
    /// Return `WouldBlock` at once if none is queued (an event loop waits).
    No,
}

/// Received datagrams, in slots reused for every batch.
pub(crate) struct Inbox {
    receiver: sys::Receiver,
    /// Length and sender of each received datagram; `None` for a slot that
    /// must be skipped (a sender we cannot read, a truncated datagram).
    received: Vec<Option<(usize, SocketAddr)>>,
}

impl Inbox {
    pub fn new() -> Self {
        Inbox {
            receiver: sys::Receiver::new(),
            received: Vec::with_capacity(BATCH),
        }
    }

    /// Waits for at least one datagram (as `wait` says), then takes those
    /// already queued, up to [`BATCH`] ([`EVENT_BATCH`] without waiting);
    /// returns how many slots were filled.
    /// A read timeout or a shut-down socket ends the wait early (see `udp`).
    pub fn receive(&mut self, socket: &UdpSocket, wait: Wait) -> io::Result<usize> {
        self.received.clear();
        self.receiver.receive(socket, wait, &mut self.received)?;
        Ok(self.received.len())
    }

    /// Datagram `i` of the last batch and who sent it; `None` for empty or
    /// unusable ones (an empty datagram has no DNS header; shutdown also
    /// yields empty reads).
    pub fn get(&self, i: usize) -> Option<(&[u8], SocketAddr)> {
        let (len, peer) = (*self.received.get(i)?)?;
        let start = i * SLOT_STRIDE;
        let datagram = self.receiver.slots().get(start..start + len)?;
        (!datagram.is_empty()).then_some((datagram, peer))
    }
}

/// `BATCH` receive slots of `MAX_DATAGRAM` bytes, [`SLOT_STRIDE`] apart,
/// zeroed lazily by the allocator: only the pages datagrams touch are ever
/// mapped.
fn slots() -> Vec<u8> {
    vec![0; BATCH * SLOT_STRIDE]
}

/// Answers waiting to be sent, in response buffers reused for every batch.
pub(crate) struct Outbox {
    sender: sys::Sender,
    responses: Vec<Vec<u8>>,
    peers: Vec<SockAddr>,
}

impl Outbox {
    pub fn new() -> Self {
        Outbox {
            sender: sys::Sender::new(),
            responses: (0..BATCH).map(|_| Vec::new()).collect(),
            peers: Vec::with_capacity(BATCH),
        }
    }

    /// The next free response buffer, emptied; it is sent only if
    /// [`Outbox::queue`] follows, and is otherwise offered again.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        let next = self.peers.len();
        if next == self.responses.len() {
            // Not reached while flushing after each batch; `flush` copes.
            self.responses.push(Vec::new());
        }
        let buffer = &mut self.responses[next];
        buffer.clear();
        buffer
    }

    /// Commits the buffer last returned by [`Outbox::buffer`] for `peer`.
    pub fn queue(&mut self, peer: SocketAddr) {
        self.peers.push(SockAddr::from(peer));
    }

    /// Sends every queued answer, each exactly as the handler wrote it. A
    /// datagram the kernel refuses (no route, too big) is logged and
    /// skipped; its client will retry.
    pub fn flush(&mut self, socket: &UdpSocket) {
        let mut sent = 0;
        while sent < self.peers.len() {
            let responses = self.responses.get(sent..).unwrap_or_default();
            match self.sender.send(socket, responses, &self.peers[sent..]) {
                Ok(n) => sent += n.max(1),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    debug!(client = ?self.peers[sent].as_socket(), error = %e, "UDP send failed");
                    sent += 1;
                }
            }
        }
        self.peers.clear();
    }
}

/// Linux: the message headers are built once, pointing into storage owned
/// by the same struct (heap memory of `Vec`s that never grow, so the
/// pointers stay valid when the struct moves); a call only resets what the
/// kernel overwrites.
#[cfg(target_os = "linux")]
mod sys {
    use std::io;
    use std::mem::{size_of, zeroed};
    use std::net::{SocketAddr, UdpSocket};
    use std::os::fd::AsRawFd;
    use std::ptr;

    use libc::{c_uint, iovec, mmsghdr, sockaddr_storage, socklen_t};
    use socket2::{SockAddr, SockAddrStorage};

    use super::{slots, Wait, BATCH, EVENT_BATCH, MAX_DATAGRAM, SLOT_STRIDE};

    const NAME_LEN: socklen_t = size_of::<sockaddr_storage>() as socklen_t;

    pub struct Receiver {
        buffers: Vec<u8>,
        names: Vec<sockaddr_storage>,
        /// Slot `i` of `buffers`. Only the kernel reads them, through the
        /// headers; the field keeps them alive.
        iovecs: Vec<iovec>,
        /// Header `i` points at `iovecs[i]` and `names[i]`.
        headers: Vec<mmsghdr>,
    }

    impl Receiver {
        pub fn new() -> Self {
            let mut buffers = slots();
            // SAFETY: all-zero is a valid value of these C structs.
            let mut names: Vec<sockaddr_storage> =
                (0..BATCH).map(|_| unsafe { zeroed() }).collect();
            let base = buffers.as_mut_ptr();
            let mut iovecs: Vec<iovec> = (0..BATCH)
                .map(|i| iovec {
                    // `i * SLOT_STRIDE + MAX_DATAGRAM` is inside `buffers`.
                    iov_base: base.wrapping_add(i * SLOT_STRIDE).cast(),
                    iov_len: MAX_DATAGRAM,
                })
                .collect();
            let (iov, name) = (iovecs.as_mut_ptr(), names.as_mut_ptr());
            let headers = (0..BATCH)
                .map(|i| {
                    // SAFETY: as above.
                    let mut header: mmsghdr = unsafe { zeroed() };
                    header.msg_hdr.msg_iov = iov.wrapping_add(i);
                    header.msg_hdr.msg_iovlen = 1;
                    header.msg_hdr.msg_name = name.wrapping_add(i).cast();
                    header
                })
                .collect();
            Receiver {
                buffers,
                names,
                iovecs,
                headers,
            }
        }

        /// The slots, one after the other.
        pub fn slots(&self) -> &[u8] {
            &self.buffers
        }

        /// `recvmmsg` into the slots.
        pub fn receive(
            &mut self,
            socket: &UdpSocket,
            wait: Wait,
            received: &mut Vec<Option<(usize, SocketAddr)>>,
        ) -> io::Result<()> {
            debug_assert_eq!(self.iovecs.len(), BATCH);
            for header in &mut self.headers {
                header.msg_hdr.msg_namelen = NAME_LEN;
            }
            // MSG_WAITFORONE: block (up to the read timeout) for the first
            // datagram only, then take what is queued without waiting.
            let (flags, batch) = match wait {
                Wait::ForOne => (libc::MSG_WAITFORONE, BATCH),
                Wait::No => (libc::MSG_DONTWAIT, EVENT_BATCH),
            };
            // SAFETY: each of the BATCH headers points at its own iovec
            // (itself at its own slot of MAX_DATAGRAM bytes) and address
            // storage, all alive as long as `self` and not borrowed now.
            let n = unsafe {
                libc::recvmmsg(
                    socket.as_raw_fd(),
                    self.headers.as_mut_ptr(),
                    batch as c_uint,
                    flags as _,
                    ptr::null_mut(),
                )
            };
            let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
            for (header, name) in self.headers.iter().zip(&self.names).take(n) {
                let truncated = header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
                let peer = peer(name, header.msg_hdr.msg_namelen);
                received.push(
                    peer.filter(|_| !truncated)
                        .map(|peer| (header.msg_len as usize, peer)),
                );
            }
            Ok(())
        }
    }

    /// The sender's address as the kernel wrote it; `None` if it wrote none
    /// (a read ended by shutdown), since `name` may hold an older sender.
    fn peer(name: &sockaddr_storage, len: socklen_t) -> Option<SocketAddr> {
        if len == 0 {
            return None;
        }
        let mut storage = SockAddrStorage::zeroed();
        // SAFETY: `sockaddr_storage` is one of this platform's address types.
        *unsafe { storage.view_as::<sockaddr_storage>() } = *name;
        // SAFETY: the kernel initialised `len` bytes of a valid address.
        unsafe { SockAddr::new(storage, len) }.as_socket()
    }

    pub struct Sender {
        iovecs: Vec<iovec>,
        headers: Vec<mmsghdr>,
    }

    impl Sender {
        pub fn new() -> Self {
            // SAFETY: all-zero is a valid value of these C structs.
            let iovecs = (0..BATCH).map(|_| unsafe { zeroed() }).collect();
            let headers = (0..BATCH).map(|_| unsafe { zeroed() }).collect();
            Sender { iovecs, headers }
        }

        /// `sendmmsg` of `responses[i]` to `peers[i]`; returns how many went.
        pub fn send(
            &mut self,
            socket: &UdpSocket,
            responses: &[Vec<u8>],
            peers: &[SockAddr],
        ) -> io::Result<usize> {
            let iov = self.iovecs.as_mut_ptr();
            let mut count = 0;
            for (header, (response, peer)) in
                self.headers.iter_mut().zip(responses.iter().zip(peers))
            {
                // SAFETY: `count < BATCH` (there are BATCH headers), so
                // `iov + count` is inside `iovecs`. The kernel only reads
                // through these pointers.
                unsafe {
                    iov.add(count).write(iovec {
                        iov_base: response.as_ptr().cast_mut().cast(),
                        iov_len: response.len(),
                    });
                    header.msg_hdr.msg_iov = iov.add(count);
                }
                header.msg_hdr.msg_iovlen = 1;
                header.msg_hdr.msg_name = peer.as_ptr().cast_mut().cast();
                header.msg_hdr.msg_namelen = peer.len();
                count += 1;
            }
            // SAFETY: the first `count` headers point at their own iovec,
            // and through it at a live response, and at a live address,
            // with their true lengths.
            let n = unsafe {
                libc::sendmmsg(
                    socket.as_raw_fd(),
                    self.headers.as_mut_ptr(),
                    count as c_uint,
                    0,
                )
            };
            usize::try_from(n).map_err(|_| io::Error::last_os_error())
        }
    }
}

/// Elsewhere: one datagram per call.
#[cfg(not(target_os = "linux"))]
mod sys {
    use std::io;
    use std::net::{SocketAddr, UdpSocket};

    use socket2::SockAddr;

    use super::{slots, Wait};

    pub struct Receiver {
        buffers: Vec<u8>,
    }

    impl Receiver {
        pub fn new() -> Self {
            Receiver { buffers: slots() }
        }

        pub fn slots(&self) -> &[u8] {
            &self.buffers
        }

        /// One `recv_from` into the first slot; without waiting, the
        /// socket is made non-blocking for the call.
        pub fn receive(
            &mut self,
            socket: &UdpSocket,
            wait: Wait,
            received: &mut Vec<Option<(usize, SocketAddr)>>,
        ) -> io::Result<()> {
            let no_wait = wait == Wait::No;
            if no_wait {
                socket.set_nonblocking(true)?;
            }
            let result = socket.recv_from(&mut self.buffers);
            if no_wait {
                socket.set_nonblocking(false)?;
            }
            let (len, peer) = result?;
            received.push(Some((len, peer)));
            Ok(())
        }
    }

    pub struct Sender;

    impl Sender {
        pub fn new() -> Self {
            Sender
        }

        /// One `send_to` of the first answer.
        pub fn send(
            &mut self,
            socket: &UdpSocket,
            responses: &[Vec<u8>],
            peers: &[SockAddr],
        ) -> io::Result<usize> {
            match (
                responses.first(),
                peers.first().and_then(SockAddr::as_socket),
            ) {
                (Some(response), Some(peer)) => socket.send_to(response, peer).map(|_| 1),
                _ => Ok(1),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn socket() -> UdpSocket {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        socket
    }

    #[test]
    fn receive_takes_every_queued_datagram_and_skips_empty_ones() {
        let (server, client) = (socket(), socket());
        let to = server.local_addr().unwrap();
        for message in [&b"one"[..], b"", b"three"] {
            client.send_to(message, to).unwrap();
        }
        let mut inbox = Inbox::new();
        let mut got = Vec::new();
        while got.len() < 3 {
            let n = inbox.receive(&server, Wait::ForOne).unwrap();
            // Loopback queues a datagram before `send_to` returns, so on
            // Linux all three come in one call.
            if cfg!(target_os = "linux") {
                assert_eq!(n, 3);
            }
            got.extend((0..n).map(|i| inbox.get(i).map(|(d, peer)| (d.to_vec(), peer))));
        }
        let from = client.local_addr().unwrap();
        assert_eq!(got[0], Some((b"one".to_vec(), from)));
        assert_eq!(got[1], None);
        assert_eq!(got[2], Some((b"three".to_vec(), from)));
        assert_eq!(inbox.get(3), None);
    }

    #[test]
    fn flush_sends_each_answer_to_its_peer_and_drops_unqueued_buffers() {
        let server = socket();
        let clients = [socket(), socket()];
        let mut outbox = Outbox::new();
        for (i, client) in clients.iter().enumerate() {
            outbox.buffer().extend_from_slice(b"not queued");
            outbox
                .buffer()
                .extend_from_slice(format!("answer {i}").as_bytes());
            outbox.queue(client.local_addr().unwrap());
        }
        outbox.flush(&server);
        for (i, client) in clients.iter().enumerate() {
            let mut buf = [0u8; 64];
            let (len, from) = client.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..len], format!("answer {i}").as_bytes());
            assert_eq!(from, server.local_addr().unwrap());
        }
        // Nothing else was sent.
        clients[0].set_nonblocking(true).unwrap();
        assert!(clients[0].recv_from(&mut [0u8; 64]).is_err());
    }

    #[test]
    fn more_answers_than_a_batch_are_all_sent() {
        let (server, client) = (socket(), socket());
        let mut outbox = Outbox::new();
        for i in 0..BATCH + 3 {
            outbox.buffer().push(i as u8);
            outbox.queue(client.local_addr().unwrap());
        }
        outbox.flush(&server);
        for i in 0..BATCH + 3 {
            let mut buf = [0u8; 4];
            let (len, _) = client.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..len], &[i as u8]);
        }
    }
}
