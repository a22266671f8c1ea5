#! /usr/bin/env python
#
# A test peer for netlab that behaves like echoserver.py from Bob Dondero's
# COS 333 network lecture (see
# ../../../shared/reference/protocols-and-peers.md, section 4): an
# iterative IPv4 server that, for each client, logs the lecture's lines on
# stdout, reads one UTF-8 line, writes it back and closes; a client that
# sends nothing "crashed". Written for netlab's tests to behave the same; it
# is not a copy of the original.
#
# Deviations, both off unless their environment variable is set, so run
# without them this behaves exactly like the lecture's program:
# - PEER_BIND_HOST: the address to bind instead of '' (all interfaces);
#   the tests set 127.0.0.1 so nothing listens beyond loopback.
# - PEER_ANNOUNCE_PORT: after binding, also print 'port N' to stderr, the
#   bound port, so tests can use port 0. The lecture's stdout lines are
#   unchanged ('Bound server socket to port' carries no number).

import os
import sys
import socket


def echo_one_line(conn):
    reader = conn.makefile(mode='r', encoding='utf-8')
    line = reader.readline()
    if line == '':
        print('The echo client crashed')
        return
    print('Read from client: ' + line, end='')

    writer = conn.makefile(mode='w', encoding='utf-8')
    writer.write(line)
    writer.flush()
    print('Wrote to client: ' + line, end='')


def main():
    if len(sys.argv) != 2:
        print('Usage: python %s port' % sys.argv[0])
        sys.exit(1)

    try:
        port = int(sys.argv[1])
        listener = socket.socket()
        print('Opened server socket')
        if os.name != 'nt':
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((os.environ.get('PEER_BIND_HOST', ''), port))
        print('Bound server socket to port')
        if os.environ.get('PEER_ANNOUNCE_PORT'):
            print('port %d' % listener.getsockname()[1], file=sys.stderr,
                  flush=True)
        listener.listen()
        print('Listening')

        while True:
            try:
                conn, peer = listener.accept()
                with conn:
                    print('Accepted connection')
                    print('Opened socket')
                    print('Server IP addr and port:', conn.getsockname())
                    print('Client IP addr and port:', peer)
                    echo_one_line(conn)
            except Exception as ex:
                print(ex, file=sys.stderr)

    except Exception as ex:
        print(ex, file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
