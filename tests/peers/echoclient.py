#! /usr/bin/env python
#
# A test peer for netlab that behaves like echoclient.py from Bob Dondero's
# COS 333 network lecture (see
# ../../../shared/reference/protocols-and-peers.md, section 4): reads one
# line from stdin *before* connecting, connects over IPv4 TCP, sends the
# line and '\n' in UTF-8 (without half-closing), reads one line back and
# prints it; an empty reply means "The echo server crashed" (stderr). On
# stdin EOF, input() raises and the message goes to stderr with exit 1.
# Written for netlab's tests to behave the same; it is not a copy of the
# original, and it has no deviations.

import sys
import socket


def main():
    if len(sys.argv) != 3:
        print('Usage: python %s host port' % sys.argv[0])
        sys.exit(1)

    try:
        host = sys.argv[1]
        port = int(sys.argv[2])

        line = input()
        if line is None:
            return

        with socket.socket() as conn:
            conn.connect((host, port))
            writer = conn.makefile(mode='w', encoding='utf-8')
            writer.write(line + '\n')
            writer.flush()
            reader = conn.makefile(mode='r', encoding='utf-8')
            reply = reader.readline()

        if reply == '':
            print('The echo server crashed', file=sys.stderr)
        else:
            print(reply, end='')

    except Exception as ex:
        print(ex, file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
