#!/usr/bin/env python3
"""100,000 idle connections to one netlab echo server, and a new client
timed while they are held: the opt-in scale benchmark of
docs/performance.md ("100,000 connections").

Needs root: it runs itself again inside a network namespace of its own
(`unshare --net`), so the per-namespace settings it changes (the
ephemeral port range) stay private, with loopback up, then raises the
descriptor limits of the processes it starts. Past one source address's
ephemeral ports, connections come from 127.0.0.2, 127.0.0.3, ... All
traffic stays on loopback inside that namespace.

    sudo python3 bench/scale.py [--connections 100000] [--netlab target/release/netlab]
"""

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time

PER_SOURCE = 50_000

# Connections one holder process keeps (each is a descriptor of its own).
PER_HOLDER = 15_000


def rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def hold(args):
    """A holder: `--hold N --first I` connections, then waits for stdin to
    close."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held = []
    for i in range(args.first, args.first + args.hold):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((f'127.0.0.{2 + i // PER_SOURCE}', 0))
        s.settimeout(10)
        s.connect(('127.0.0.1', args.port))
        held.append(s)
    print(f'held {len(held)}', flush=True)
    sys.stdin.read()


def inside(args):
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    with open('/proc/sys/net/ipv4/ip_local_port_range', 'w') as f:
        f.write('1024 65535')
    want = args.connections * 8 // 7 + 1_000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError):
            sys.exit(f'scale.py: the open-files hard limit is {hard}, and this process may not '
                     f'raise it to {want} (no CAP_SYS_RESOURCE): run it where it can, or with '
                     f'--connections {(hard - 1_000) * 7 // 8} at most')
    else:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server = subprocess.Popen(
        [args.netlab, 'serve', 'echo', '-q', '--host', '127.0.0.1', '--port', '0',
         # The last eighth of the limit is kept for sources that hold no
         # connection yet, so the limit is 8/7 of what is held.
         '--max-connections', str(args.connections * 8 // 7 + 100), '--idle-timeout', '0'],
        stdout=subprocess.PIPE, text=True)
    holders = []
    try:
        line = server.stdout.readline()
        port = int(line.rsplit(' ', 1)[1])
        rss_before = rss_kib(server.pid)
        start = time.monotonic()
        for first in range(0, args.connections, PER_HOLDER):
            n = min(PER_HOLDER, args.connections - first)
            holder = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), '--hold', str(n),
                 '--first', str(first), '--port', str(port)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            holders.append(holder)
            if not holder.stdout.readline().startswith('held '):
                sys.exit('scale.py: a holder could not make its connections')
        connect_s = time.monotonic() - start
        # The loop may still be taking the last ones from the backlog: wait
        # until it holds them all (a descriptor each).
        deadline = time.monotonic() + 60
        fds = 0
        while time.monotonic() < deadline:
            fds = len(os.listdir(f'/proc/{server.pid}/fd'))
            if fds >= args.connections:
                break
            time.sleep(0.2)
        rss = rss_kib(server.pid)
        bench = subprocess.run(
            [args.netlab, 'bench', 'echo', '127.0.0.1', str(port), '-c', '1', '-s', '64',
             '-d', '3', '--json'],
            capture_output=True, text=True, timeout=60)
        report = json.loads(bench.stdout) if bench.returncode == 0 else None
        result = {
            'connections': args.connections,
            'connect_seconds': round(connect_s, 1),
            'server_fds': fds,
            'rss_mib_before': round(rss_before / 1024, 1),
            'rss_mib_held': round(rss / 1024, 1),
            'kib_per_connection': round((rss - rss_before) / args.connections, 2),
            'new_client_requests_per_s': report and round(report['ops_per_s']),
            'new_client_p50_us': report and report['latency']['p50_us'],
            'new_client_p99_us': report and report['latency']['p99_us'],
            'bench_error': None if report else bench.stderr.strip(),
        }
        print(json.dumps(result, indent=2))
    finally:
        for holder in holders:
            holder.stdin.close()
            holder.wait(timeout=60)
        server.terminate()
        server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--connections', type=int, default=100_000)
    parser.add_argument('--netlab', default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', 'target', 'release', 'netlab'))
    parser.add_argument('--inside', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--hold', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--first', type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument('--port', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hold:
        return hold(args)
    if args.inside:
        return inside(args)
    if os.geteuid() != 0:
        sys.exit('scale.py: needs root, for a network namespace of its own and the descriptor limits')
    os.execvp('unshare', ['unshare', '--net', sys.executable, os.path.abspath(__file__),
                          '--inside', '--connections', str(args.connections),
                          '--netlab', os.path.abspath(args.netlab)])


if __name__ == '__main__':
    main()
