#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz/corpus/<target>/: valid inputs of
every kind each target reads, edge cases, and truncations. The fuzzer
grows the corpus from these; `cargo fuzz cmin` keeps it small. Run from
anywhere: python3 fuzz/seed_corpus.py (files are named by content, so a
rerun adds nothing twice)."""

import hashlib
import ipaddress
import struct
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ("seed-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)


# address: what a user types for a host, a port, a time, a byte count.
for text in [
    "127.0.0.1", "::1", "[::1]", "::ffff:127.0.0.1", "fe80::1%lo", "fe80::1%1",
    "[fe80::1%eth0]", "::1%", "::1%4294967296", "::1%no-such-if", "1.2.3.256",
    "[::1", "::1]", "[]", "nonexistent.invalid", "X.INVALID.", "", " ", "a b",
    "localhost\n", "a\0b", "0", "65535", "65536", "-1", " 7 ", "0.5", "1e19",
    "NaN", "inf", "-0", "1536", "1.5K", "256M", "1GiB", "8k", "3Q",
    "18446744073709551615G", "127.0.0.1:53", "[::1]:5353", "[::1]:0",
    "127.0.0.1:99999", "\uff10.0.0.1", "99999999999999999999999",
]:
    write("address", text)


# dns_answer: a selector byte (0 A, 1 AAAA, 2 both, 3 PTR for
# 127.0.0.1), then a reply; the responder copies the query's id in.
NAME = "fuzz.netlab.test"
PTR_NAME = "1.0.0.127.in-addr.arpa"
A, AAAA, CNAME, PTR, IN = 1, 28, 5, 12, 1


def name(text):
    out = b""
    for label in text.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def record(owner, rtype, rdata, ttl=60):
    return owner + struct.pack(">HHIH", rtype, IN, ttl, len(rdata)) + rdata


def reply(qname, qtype, answers=(), rcode=0, flags=0x8180, question=True):
    header = struct.pack(">HHHHHH", 0, flags | rcode, 1 if question else 0, len(answers), 0, 0)
    body = (name(qname) + struct.pack(">HH", qtype, IN)) if question else b""
    return header + body + b"".join(answers)


HERE = b"\xc0\x0c"  # a pointer to the question's name
v4 = record(HERE, A, ipaddress.IPv4Address("127.0.0.1").packed)
v4b = record(HERE, A, ipaddress.IPv4Address("192.0.2.7").packed)
v6 = record(HERE, AAAA, ipaddress.IPv6Address("::1").packed)
alias = record(HERE, CNAME, name("real.netlab.test"))
at_alias = record(name("real.netlab.test"), A, bytes([127, 0, 0, 2]))
loop = record(name("real.netlab.test"), CNAME, name(NAME))
dns = [
    (0, reply(NAME, A, [v4])),
    (0, reply(NAME, A, [v4, v4b, v4])),
    (0, reply(NAME, A, [alias, at_alias])),
    (0, reply(NAME, A, [alias, loop])),
    (0, reply(NAME, A, [])),
    (0, reply(NAME, A, [v6])),
    (1, reply(NAME, AAAA, [v6])),
    (1, reply(NAME, A, [v4])),
    (2, reply(NAME, A, [v4])),
    (3, reply(PTR_NAME, PTR, [record(HERE, PTR, name("localhost"))])),
    (3, reply(PTR_NAME, PTR, [record(HERE, PTR, name("a.test")), record(HERE, PTR, name("b.test"))])),
    (3, reply(PTR_NAME, PTR, [])),
    (0, reply(NAME, A, rcode=3)),
    (0, reply(NAME, A, rcode=2)),
    (0, reply(NAME, A, rcode=5)),
    (0, reply(NAME, A, rcode=3, question=False)),
    (0, reply(NAME, A, [v4], flags=0x8380)),  # TC: asked again over TCP
    (0, reply(NAME, A, [v4], flags=0x0100)),  # a query, not a response
    (0, reply("other.netlab.test", A, [v4])),
    (0, reply(NAME, A, [v4])[:20]),
    (0, reply(NAME, A, [v4])[:11]),
    (0, reply(NAME, A, [record(b"\xc0\x30", A, b"\x7f\0\0\1")])),  # a pointer past the end
    (0, reply(NAME, A, [record(HERE, A, b"\x7f\0\0")])),  # 3-byte A
    (0, b""),
]
for which, data in dns:
    write("dns_answer", bytes([which]) + data)


# daytime_time: a selector byte (bit 0: UDP), then what the server sent.
lines = [
    "\n61082 26-02-11 21:30:43 00 0 0 34.3 UTC(NIST) *\n",
    "61082 26-02-11 21:30:43 50 1 2 0 UTC(NIST) #\r\n",
    "99999 99-99-99 99:99:99 99 9 99 9.9 UTC(NIST) *",
    "Wed Feb 11 16:32:10 2026\n",
    "Sun Feb  1 09:05:03 2026\r\n",
    "Sun Feb 01 09:05:03 2026",
    "Mon Feb 11 16:32:10 2026\n",
    "Wed Fob 11 16:32:10 2026\n",
    "2026-02-11T16:32:10Z\n",
    "2026-02-11T16:32:10.123+01:00\n",
    "2026-02-11 16:32:10Z",
    "2026-02-11t16:32:10.5-05:30\r\n",
    "9999-12-31T23:59:60.999999999+23:59",
    "2026-02-11T16:32:10.1234567890Z",
    "2026-02-11T16:32:10+24:00",
    "11 FEB 2026 16:32:10 EST\n",
    "11 FEB 2026 16:32:10 GMT\n",
    "Wed Feb 11 16:32:10 2026\nWed Feb 11 16:32:10 2026\n",
    "Wed Feb 11 16:32:10 2026\rX\n",
    "\n\n\n",
    "",
]
for line in lines:
    for which in (0, 1):
        write("daytime_time", bytes([which]) + line.encode())
for which in (0, 1):
    for value in (0, 1, 2_208_988_800, 3_979_000_000, 0xFFFFFFFF):
        write("daytime_time", bytes([which]) + struct.pack(">I", value))
    write("daytime_time", bytes([which]) + b"\x01\x02\x03")
    write("daytime_time", bytes([which]) + b"\x01\x02\x03\x04\x05")
    write("daytime_time", bytes([which]) + b"\x00\xff" * 300)
write("daytime_time", b"\x00" + b"Wed Feb 11 16:32:10 2026 " * 200)


# udp_request: family byte (bit 0: IPv6), 16 address bytes, the port, the
# servers' clock (8 bytes, mapped into 1800-2200), then the datagram.
def clock(secs):
    span = 400 * 366 * 86_400
    return struct.pack(">q", secs + span // 2)


def peer(addr, port):
    ip = ipaddress.ip_address(addr)
    return bytes([ip.version == 6]) + ip.packed.ljust(16, b"\0") + struct.pack(">H", port)


NOW = 1_770_827_530
for addr, port in [
    ("127.0.0.1", 40000), ("127.0.0.1", 19), ("127.0.0.1", 2049), ("0.0.0.0", 40000),
    ("255.255.255.255", 40000), ("192.0.2.255", 40000), ("224.0.0.1", 40000),
    ("::1", 40000), ("::ffff:127.0.0.1", 53), ("::ffff:0.0.0.0", 40000), ("ff02::1", 40000),
    ("::", 40000), ("2001:db8::1", 1023), ("2001:db8::1", 1024),
]:
    write("udp_request", peer(addr, port) + clock(NOW) + b"hello\n")
for secs in (NOW, -2_208_988_800, -2_208_988_801, 2_085_978_496, 4_294_967_295 - 2_208_988_800 + 1):
    for request in (b"", b"\0\xff", b"x" * 1000):
        write("udp_request", peer("127.0.0.1", 40000) + clock(secs) + request)
write("udp_request", b"")
write("udp_request", b"\x01\x02")
