#!/usr/bin/env python3
"""Open N idle TCP connections to HOST PORT and hold them until stdin
closes (or the process is killed). Prints `held K` (K <= N: the
connections that completed within the deadline) once, flushed.

The benchmark runs this in its own process: 10,000 sockets need more
descriptors than the default soft limit, so the soft limit is raised to
the hard limit first.

Usage: hold.py HOST PORT N [DEADLINE_SECS]
"""

import resource
import selectors
import socket
import sys
import time


def main():
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    deadline = time.monotonic() + (float(sys.argv[4]) if len(sys.argv) > 4 else 60.0)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    sel = selectors.DefaultSelector()
    held = []
    pending = 0
    opened = 0
    # Nonblocking connects, at most 256 in flight: a server with a short
    # backlog then sees a steady stream, not a burst of dropped SYNs.
    while (opened < n or pending) and time.monotonic() < deadline:
        while opened < n and pending < 256:
            s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
            s.setblocking(False)
            s.connect_ex((host, port))
            sel.register(s, selectors.EVENT_WRITE)
            pending += 1
            opened += 1
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                held.append(s)
            else:
                s.close()
    print('held %d' % len(held), flush=True)
    sys.stdin.read()


if __name__ == '__main__':
    main()
