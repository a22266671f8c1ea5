#! /usr/bin/env python3
#
# Clients of the five inetd-family services, written straight from their
# RFCs (862 echo, 863 discard, 864 chargen, 867 daytime, 868 time), not
# from netlab's code: netlab's tests run them against `netlab serve` as an
# independent reading of each RFC. Standard library only.
#
#   rfc_clients.py SERVICE tcp|udp HOST PORT [--bytes N] [--rst]
#
# On success: one line on stdout, "ok SERVICE TRANSPORT: what was seen",
# exit 0. On failure: "FAIL SERVICE TRANSPORT: why" on stderr, exit 1.
# Every wait has a timeout, so a silent server is a failure, never a hang.
#
# What each checks:
#   echo     tcp: N random bytes sent (while reading, so that neither side's
#                 buffers can fill), half-close, the same N bytes back, EOF.
#            udp: a datagram of random bytes comes back the same.
#   discard  tcp: N bytes sent, half-close; the server closes, sending
#                 nothing.
#            udp: a datagram sent; no reply within a short wait.
#   chargen  tcp: N bytes read are the usual pattern (72 of the 95
#                 printable characters a line, CR LF, each line starting
#                 one character further on); then the client closes early,
#                 with --rst abortively (SO_LINGER 0: an RST), the RFC's
#                 "rude abort".
#            udp: one reply of at most 512 characters, of the pattern.
#   daytime  tcp/udp: one line of printable ASCII, ending LF or CR LF (TCP:
#                 the server closes after it; UDP: the request is empty).
#   time     tcp/udp: exactly 4 bytes, big-endian seconds since 1900, within
#                 a few seconds of this machine's clock (mod 2^32).

import os
import socket
import struct
import sys
import threading
import time

TIMEOUT = 5.0
NO_REPLY_WAIT = 0.5
SECONDS_1900_TO_1970 = 2208988800
RING = bytes(range(0x20, 0x7F))  # the 95 printable ASCII characters


class Failure(Exception):
    pass


def address(host, port, kind):
    family, _, _, _, addr = socket.getaddrinfo(host, port, type=kind)[0]
    return family, addr


def tcp_connect(host, port):
    family, addr = address(host, port, socket.SOCK_STREAM)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    sock.connect(addr)
    return sock


def udp_socket(host, port):
    family, addr = address(host, port, socket.SOCK_DGRAM)
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.settimeout(TIMEOUT)
    sock.connect(addr)  # replies from anywhere else are not for us
    return sock


def read_to_eof(sock, limit):
    """Everything until the server closes; fails past `limit` bytes."""
    data = bytearray()
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return bytes(data)
        data += chunk
        if len(data) > limit:
            raise Failure("more than %d bytes and no end" % limit)


def send_all_then_half_close(sock, data):
    """Sends `data` on a thread, then shuts the sending side."""
    errors = []

    def send():
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            errors.append(e)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    return sender, errors


def check_pattern(data):
    """`data` is a prefix of the chargen pattern from some line on."""
    if not data:
        return
    if data[0] not in RING:
        raise Failure("first byte %r is not printable" % data[:1])
    start = RING.index(data[0])
    expected = bytearray()
    line = 0
    while len(expected) < len(data):
        first = (start + line) % len(RING)
        expected += (RING + RING)[first:first + 72] + b"\r\n"
        line += 1
    if data != bytes(expected[:len(data)]):
        at = next(i for i in range(len(data)) if data[i] != expected[i])
        raise Failure("not the pattern at byte %d: %r" % (at, data[max(0, at - 10):at + 10]))


def check_daytime(data):
    if not data.endswith(b"\n"):
        raise Failure("no line end: %r" % data)
    line = data[:-1]
    if line.endswith(b"\r"):
        line = line[:-1]
    if not line or any(b < 0x20 or b > 0x7E for b in line):
        raise Failure("not one line of printable ASCII: %r" % data)
    return line.decode("ascii")


def check_time(data):
    if len(data) != 4:
        raise Failure("%d bytes, not 4: %r" % (len(data), data))
    (value,) = struct.unpack("!I", data)
    now = int(time.time() + SECONDS_1900_TO_1970) % (1 << 32)
    skew = min((value - now) % (1 << 32), (now - value) % (1 << 32))
    if skew > 5:
        raise Failure("%d is %d s away from now (%d)" % (value, skew, now))
    return value


def echo_tcp(host, port, n, rst):
    data = os.urandom(n)
    with tcp_connect(host, port) as sock:
        sender, errors = send_all_then_half_close(sock, data)
        back = read_to_eof(sock, n)
        sender.join(TIMEOUT)
    if errors:
        raise Failure("sending: %s" % errors[0])
    if back != data:
        raise Failure("%d bytes sent, %d back, different" % (n, len(back)))
    return "%d bytes echoed" % n


def echo_udp(host, port, n, rst):
    data = os.urandom(min(n, 512))
    with udp_socket(host, port) as sock:
        sock.send(data)
        back = sock.recv(65536)
    if back != data:
        raise Failure("sent %d bytes, got %d different ones" % (len(data), len(back)))
    return "a %d-byte datagram echoed" % len(data)


def discard_tcp(host, port, n, rst):
    with tcp_connect(host, port) as sock:
        sender, errors = send_all_then_half_close(sock, os.urandom(n))
        back = read_to_eof(sock, 1024)
        sender.join(TIMEOUT)
    if errors:
        raise Failure("sending: %s" % errors[0])
    if back:
        raise Failure("the server sent %r" % back[:100])
    return "%d bytes discarded" % n


def discard_udp(host, port, n, rst):
    with udp_socket(host, port) as sock:
        sock.send(os.urandom(min(n, 512)))
        sock.settimeout(NO_REPLY_WAIT)
        try:
            back = sock.recv(65536)
        except socket.timeout:
            return "no reply"
    raise Failure("the server replied %r" % back[:100])


def chargen_tcp(host, port, n, rst):
    sock = tcp_connect(host, port)
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise Failure("the server closed after %d bytes" % len(data))
        data += chunk
    check_pattern(bytes(data))
    if rst:
        # Linger on, for 0 s: close() aborts the connection with an RST.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    else:
        # The careful close: a FIN first (close() alone, with the stream
        # still arriving unread, would reset the connection).
        sock.shutdown(socket.SHUT_WR)
    sock.close()
    return "%d bytes of the pattern, then %s" % (n, "a reset" if rst else "a close")


def chargen_udp(host, port, n, rst):
    with udp_socket(host, port) as sock:
        sock.send(b"")
        data = sock.recv(65536)
    if len(data) > 512:
        raise Failure("%d characters, more than 512" % len(data))
    check_pattern(data)
    return "a %d-byte datagram of the pattern" % len(data)


def daytime_tcp(host, port, n, rst):
    with tcp_connect(host, port) as sock:
        line = check_daytime(read_to_eof(sock, 1024))
    return repr(line)


def daytime_udp(host, port, n, rst):
    with udp_socket(host, port) as sock:
        sock.send(b"")
        line = check_daytime(sock.recv(65536))
    return repr(line)


def time_tcp(host, port, n, rst):
    with tcp_connect(host, port) as sock:
        return "%d" % check_time(read_to_eof(sock, 64))


def time_udp(host, port, n, rst):
    with udp_socket(host, port) as sock:
        sock.send(b"")
        return "%d" % check_time(sock.recv(65536))


CLIENTS = {
    (name, transport): globals()["%s_%s" % (name, transport)]
    for name in ("echo", "discard", "chargen", "daytime", "time")
    for transport in ("tcp", "udp")
}


def main(argv):
    args = argv[1:]
    rst = "--rst" in args
    args = [a for a in args if a != "--rst"]
    n = 256 * 1024
    if "--bytes" in args:
        i = args.index("--bytes")
        n = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 4 or (args[0], args[1]) not in CLIENTS:
        print("usage: %s echo|discard|chargen|daytime|time tcp|udp HOST PORT"
              " [--bytes N] [--rst]" % argv[0], file=sys.stderr)
        return 2
    service, transport, host, port = args[0], args[1], args[2], int(args[3])
    try:
        what = CLIENTS[(service, transport)](host, port, n, rst)
    except (Failure, OSError) as e:
        print("FAIL %s %s: %s" % (service, transport, e), file=sys.stderr)
        return 1
    print("ok %s %s: %s" % (service, transport, what))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
