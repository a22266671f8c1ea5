#! /usr/bin/env python
#
# A test peer for netlab that behaves like daytimeclient.py from Bob
# Dondero's COS 333 network lecture (see
# ../../../shared/reference/protocols-and-peers.md, section 4): connects
# over IPv4 TCP to host and port, and prints every line the server sends,
# decoded as ASCII, until the server closes. Errors go to stderr as one
# line and exit 1. Written for netlab's tests to behave the same; it is not
# a copy of the original, and it has no deviations.

import sys
import socket


def main():
    if len(sys.argv) != 3:
        print('Usage: python %s host port' % sys.argv[0])
        sys.exit(1)

    try:
        host = sys.argv[1]
        port = int(sys.argv[2])
        with socket.socket() as conn:
            conn.connect((host, port))
            reader = conn.makefile(mode='r', encoding='ascii')
            for line in reader:
                print(line, end='')

    except Exception as ex:
        print(ex, file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
