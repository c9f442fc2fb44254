//! Abusive TCP clients against the authoritative server (RFC 7766 6.2):
//! clients that connect and say nothing, that fill every connection slot,
//! that promise more octets than they send, that trickle. Each must tie up
//! nothing for long, and everyone else keeps getting right answers
//! meanwhile. transport/tests pins each limit alone with an echo handler;
//! these scenarios run them together against the real server.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;

use super::packets::query;
use super::start_example_auth;
use super::{assert_www_a, WWW_A};
use crate::common::{loopback_config, section, tcp_recv, tcp_send, udp, Ask, TIMEOUT};

/// Generous upper bound for "promptly" on a loaded two-core machine.
const PROMPTLY: Duration = Duration::from_secs(5);

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("tcp connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("set timeout");
    stream
}

/// www.example.com/A on an open connection, answered right.
fn exchange(stream: &mut TcpStream, id: u16) {
    tcp_send(stream, &query(id, "www.example.com"));
    let reply = tcp_recv(stream).expect("answer on an open connection");
    assert_www_a(id, &reply);
}

/// Waits up to `within` for the server to close `stream`; `Err` says what
/// happened instead.
fn wait_closed(stream: &mut TcpStream, within: Duration) -> Result<(), String> {
    stream.set_read_timeout(Some(within)).expect("set timeout");
    let mut buf = [0u8; 512];
    match stream.read(&mut buf) {
        Ok(0) => Ok(()),
        Ok(n) => Err(format!("server sent {n} octets instead of closing")),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            Err(format!("connection still open after {within:?}"))
        }
        // A reset is a close too.
        Err(_) => Ok(()),
    }
}

/// With every TCP slot held, a further client is not served, but UDP still
/// is; once one holder leaves, a new TCP client is answered. Without the cap
/// a flood of connections would exhaust file descriptors.
#[test]
fn tcp_connection_cap_holds_and_frees_a_slot_when_a_client_leaves() {
    const CAP: usize = 3;
    let mut config = loopback_config();
    config.tcp_max_connections = CAP;
    config.tcp_idle_timeout = Duration::from_secs(30);
    let server = start_example_auth(config);

    let mut holders: Vec<TcpStream> = (0..CAP).map(|_| connect(server.addr)).collect();
    for (id, holder) in (10u16..).zip(holders.iter_mut()) {
        exchange(holder, id);
    }

    // Over the cap: the server may leave it in the backlog or close it, but
    // must not answer it while every slot is held.
    let mut over = connect(server.addr);
    over.set_read_timeout(Some(Duration::from_secs(1)))
        .expect("set timeout");
    // The write may fail if the server already closed it; either is fine.
    let _ = over
        .write_all(&[0, 12])
        .and_then(|()| over.write_all(&query(99, "a.example")[..12]));
    let mut buf = [0u8; 2];
    assert!(
        !matches!(over.read(&mut buf), Ok(n) if n > 0),
        "a client over the connection cap was answered"
    );

    let answer = udp(server.addr, &Ask::new("www.example.com.", RecordType::A));
    assert_eq!(
        section(&answer.answers),
        WWW_A,
        "UDP is answered while TCP is at its cap"
    );

    drop(holders.pop());
    drop(over);
    let started = Instant::now();
    exchange(&mut connect(server.addr), 30);
    assert!(
        started.elapsed() < PROMPTLY,
        "a new client is served once a slot frees"
    );
    for (id, holder) in (20u16..).zip(holders.iter_mut()) {
        exchange(holder, id);
    }
}

/// Three abusive clients at once: one asks once and then stays silent, one
/// sends a length prefix promising 512 octets followed by 10 of them, one
/// sends its query an octet every half second (slowloris). The idle timeout
/// (RFC 7766 6.2.3) also bounds reading one message, so the server closes
/// all three long before the trickle would complete, and a well-behaved
/// client is answered right over TCP and UDP the whole time.
#[test]
fn silent_short_and_trickling_tcp_clients_are_cut_off_while_others_are_answered() {
    let mut config = loopback_config();
    config.tcp_idle_timeout = Duration::from_secs(1);
    let server = start_example_auth(config);

    let mut silent = connect(server.addr);
    exchange(&mut silent, 1);
    let mut liar = connect(server.addr);
    liar.write_all(&512u16.to_be_bytes()).expect("write prefix");
    liar.write_all(&query(2, "www.example.com")[..10])
        .expect("write part");

    let mut framed = 0u16.to_be_bytes().to_vec();
    framed.extend(query(3, "www.example.com"));
    let len = u16::try_from(framed.len() - 2).expect("short query");
    framed[..2].copy_from_slice(&len.to_be_bytes());
    let full_trickle = Duration::from_millis(500) * framed.len() as u32;
    let mut slow = connect(server.addr);
    let trickler = std::thread::spawn(move || {
        let started = Instant::now();
        for octet in framed {
            // After the server closes, the first write draws a reset and a
            // later one fails.
            if slow.write_all(&[octet]).is_err() {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        // Every octet went out: the server waited for the whole message.
        None
    });

    // A fresh connection each time: a kept one would itself be idle
    // between rounds on a slow machine.
    let mut id = 100;
    while !trickler.is_finished() {
        exchange(&mut connect(server.addr), id);
        let answer = udp(server.addr, &Ask::new("www.example.com.", RecordType::A));
        assert_eq!(
            section(&answer.answers),
            WWW_A,
            "UDP answer while TCP clients abuse"
        );
        id += 1;
        std::thread::sleep(Duration::from_millis(300));
    }
    match trickler.join().expect("trickler thread") {
        Some(after) => assert!(
            after < full_trickle,
            "trickler cut off only after {after:?}"
        ),
        None => panic!("the server waited {full_trickle:?} for a trickled message"),
    }
    wait_closed(&mut silent, PROMPTLY).expect("the silent client is closed");
    wait_closed(&mut liar, PROMPTLY).expect("the short message's connection is closed");
}
