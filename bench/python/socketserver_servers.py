#!/usr/bin/env python3
"""The lecture's servers rewritten on Python's socketserver, the way a
Python user would make them concurrent: ThreadingTCPServer (a thread per
connection) for TCP, UDPServer for UDP.

Differences from the lecture code, on purpose:
- echo is RFC 862 stream mode (every byte back until the client closes),
  not one line and close, so request/response and bulk can be measured;
- no log lines per connection (the lecture prints four), so the figure is
  the engine's, not print()'s;
- the listen backlog is 128 (Python's own listen() default), not
  socketserver's 5, so 1000 concurrent connects do not wait for SYN
  retransmits;
- binds 127.0.0.1 only.

Usage: socketserver_servers.py echo|daytime PORT [--udp]
"""

import socket
import socketserver
import sys
import time


class EchoStream(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            data = sock.recv(16384)
            if not data:
                return
            sock.sendall(data)


class Daytime(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall((time.asctime(time.localtime()) + '\n').encode('ascii'))


class EchoUdp(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data, self.client_address)


class DaytimeUdp(socketserver.BaseRequestHandler):
    def handle(self):
        _, sock = self.request
        sock.sendto((time.asctime(time.localtime()) + '\n').encode('ascii'),
                    self.client_address)


class Threading(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128


class Udp(socketserver.UDPServer):
    allow_reuse_address = True


def main():
    args = sys.argv[1:]
    if len(args) not in (2, 3) or args[0] not in ('echo', 'daytime') or \
            (len(args) == 3 and args[2] != '--udp'):
        print('Usage: %s echo|daytime PORT [--udp]' % sys.argv[0], file=sys.stderr)
        sys.exit(64)
    addr = ('127.0.0.1', int(args[1]))
    if len(args) == 3:
        server = Udp(addr, EchoUdp if args[0] == 'echo' else DaytimeUdp)
    else:
        server = Threading(addr, EchoStream if args[0] == 'echo' else Daytime)
    with server:
        server.serve_forever()


if __name__ == '__main__':
    main()
