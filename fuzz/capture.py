#!/usr/bin/env python3
"""Seeds fuzz corpora with real DNS messages, as dig writes them.

    capture.py queries OUTDIR
        dig sends a set of varied queries to a socket of ours; each query's
        octets become a file in OUTDIR. We answer each with its own octets
        and QR set, so dig returns at once.

    capture.py responses OUTDIR HOST PORT
        the same queries are relayed to a running DNS server (dnslab auth on
        loopback); each of its responses becomes a file in OUTDIR.

Loopback only: HOST must be in 127.0.0.0/8.
"""

import ipaddress
import os
import socket
import subprocess
import sys
import threading

# (name, dig arguments): EDNS on and off, DO, cookies, TCP-sized buffers,
# names in and out of the zone, every common type.
QUERIES = [
    ("www.example.com.", ["A"]),
    ("www.example.com.", ["AAAA", "+noedns"]),
    ("example.com.", ["SOA", "+dnssec"]),
    ("example.com.", ["NS", "+bufsize=512"]),
    ("example.com.", ["MX", "+nocookie"]),
    ("example.com.", ["TXT", "+bufsize=4096"]),
    ("example.com.", ["ANY"]),
    ("nonexistent.example.com.", ["A"]),
    ("a.b.c.d.example.com.", ["CNAME"]),
    ("sub.example.com.", ["NS", "+norecurse"]),
    ("Www.ExAmPlE.cOm.", ["A", "+edns=0"]),
    ("example.org.", ["A"]),
    ("com.", ["NS", "+norecurse"]),
    (".", ["NS", "+norecurse"]),
    ("example.com.", ["DNSKEY", "+dnssec", "+bufsize=1232"]),
    ("example.com.", ["CAA"]),
    ("_sip._tcp.example.com.", ["SRV"]),
    ("1.0.0.127.in-addr.arpa.", ["PTR"]),
]


def dig(port, name, args):
    cmd = ["dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=2", name] + args
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def serve(sock, outdir, upstream, stop):
    count = 0
    while not stop.is_set():
        try:
            query, peer = sock.recvfrom(65535)
        except socket.timeout:
            continue
        if upstream is None:
            keep, reply = query, bytearray(query)
            if len(reply) > 2:
                reply[2] |= 0x80
        else:
            relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            relay.settimeout(2)
            relay.sendto(query, upstream)
            try:
                reply, _ = relay.recvfrom(65535)
            except socket.timeout:
                continue
            finally:
                relay.close()
            keep = reply
        with open(os.path.join(outdir, f"dig-{count:03}"), "wb") as f:
            f.write(keep)
        count += 1
        sock.sendto(bytes(reply), peer)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("queries", "responses"):
        sys.exit(__doc__)
    outdir = sys.argv[2]
    upstream = None
    if sys.argv[1] == "responses":
        host, port = sys.argv[3], int(sys.argv[4])
        if not ipaddress.ip_address(host).is_loopback:
            sys.exit("capture.py: only loopback servers")
        upstream = (host, port)
    os.makedirs(outdir, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()
    worker = threading.Thread(target=serve, args=(sock, outdir, upstream, stop))
    worker.start()
    for name, args in QUERIES:
        dig(sock.getsockname()[1], name, args)
    stop.set()
    worker.join()


if __name__ == "__main__":
    main()
