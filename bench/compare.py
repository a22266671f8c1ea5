#!/usr/bin/env python3
"""Side-by-side benchmark: netlab's servers against a tokio reference,
socat and the lecture's Python servers, all driven by `netlab bench`.

Builds everything in release mode, starts each server on a free loopback
port (polling until it answers, never sleeping a fixed time), runs the same
matrix against each with `netlab bench --json --server-pid`, stops it, and
prints one Markdown table of medians and ratios against tokio.

    python3 bench/compare.py            # the full matrix (about 8 minutes)
    python3 bench/compare.py --quick    # one short run per cell (about 2 minutes)

Options: --runs N, --duration SECS, --servers netlab,tokio,...,
--cases echo-64B-c1,..., --json-out FILE (raw results).
Everything listens on and connects to 127.0.0.1 only.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The lecture's Python servers bind '' (every interface) unless told otherwise.
os.environ['PEER_BIND_HOST'] = '127.0.0.1'
BENCH = os.path.join(ROOT, 'bench')
HOST = '127.0.0.1'

SERVERS = ['netlab', 'tokio', 'socat', 'py-lecture', 'py-threading']
SERVER_NOTES = {
    'netlab': 'netlab serve ... -q (mio event loops, one per two cores: one here)',
    'tokio': 'bench/tokio-ref (multi-thread runtime, task per connection)',
    'socat': 'socat ...,fork PIPE / EXEC:date (process per connection)',
    'py-lecture': "the lecture's iterative daytimeserver.py / echoserver.py (line mode)",
    'py-threading': 'socketserver ThreadingTCPServer, stream-mode echo; UDPServer for UDP',
}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# --------------------------------------------------------------- building

def build(args):
    target = os.environ.get('CARGO_TARGET_DIR', os.path.join(ROOT, 'target'))
    log('building netlab (release) ...')
    subprocess.run(['cargo', 'build', '--release', '-q', '-p', 'netlab-cli'],
                   cwd=ROOT, check=True, env=dict(os.environ, CARGO_TARGET_DIR=target))
    log('building bench/tokio-ref (release) ...')
    tokio_dir = os.path.join(BENCH, 'tokio-ref')
    env = dict(os.environ)
    env['CARGO_TARGET_DIR'] = os.path.join(tokio_dir, 'target')
    subprocess.run(['cargo', 'build', '--release', '-q'], cwd=tokio_dir, check=True, env=env)
    if 'socat' in args.servers and not shutil.which('socat'):
        log('socat is missing: apt-get install -y socat')
        subprocess.run(['apt-get', 'install', '-y', '-q', 'socat'], check=False,
                       stdout=subprocess.DEVNULL)
        if not shutil.which('socat'):
            log('socat could not be installed: its column is n/a')
            args.servers = [s for s in args.servers if s != 'socat']
    return (os.path.join(target, 'release', 'netlab'),
            os.path.join(tokio_dir, 'target', 'release', 'tokio-ref'))


# ---------------------------------------------------------------- servers

def server_argv(name, proto, udp, port, bins):
    """The command that runs server `name` for `proto` ('echo' or
    'daytime') on `port`, or None where that server cannot take part."""
    netlab, tokio = bins
    py = sys.executable
    if name == 'netlab':
        argv = [netlab, 'serve', proto, '--host', HOST, '--port', str(port), '-q',
                '--max-connections', '20000']
        return argv + (['--udp'] if udp else [])
    if name == 'tokio':
        return [tokio, proto, str(port)] + (['--udp'] if udp else [])
    if name == 'socat':
        right = 'PIPE' if proto == 'echo' else 'EXEC:date'
        if udp:
            return ['socat', f'UDP-RECVFROM:{port},bind={HOST},reuseaddr,fork', right]
        return ['socat', f'TCP-LISTEN:{port},bind={HOST},reuseaddr,fork,backlog=1024', right]
    if name == 'py-lecture':
        if udp:
            return None
        # The lecture's servers as the tests use them (tests/peers); the
        # environment (PEER_BIND_HOST, set at the top) keeps them on loopback.
        script = 'echoserver.py' if proto == 'echo' else 'daytimeserver.py'
        return [py, os.path.join(ROOT, 'tests', 'peers', script), str(port)]
    if name == 'py-threading':
        argv = [py, os.path.join(BENCH, 'python', 'socketserver_servers.py'), proto, str(port)]
        return argv + (['--udp'] if udp else [])
    raise ValueError(name)


def free_port(udp):
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_ready(port, udp, proto, proc, deadline_s=15.0):
    """Polls until the server answers: a TCP connect accepted, or a UDP
    reply. Raises if it exits or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f'server exited with {proc.returncode}')
        try:
            if udp:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.settimeout(0.1)
                    s.sendto(b'x' if proto == 'echo' else b'', (HOST, port))
                    s.recvfrom(65536)
                    return
            else:
                with socket.create_connection((HOST, port), timeout=0.1):
                    return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f'server on port {port} not ready after {deadline_s} s')


class Server:
    def __init__(self, name, proto, udp, bins):
        self.name = name
        argv = None
        self.proc = None
        for _ in range(3):  # a port taken between probe and bind: try another
            self.port = free_port(udp)
            argv = server_argv(name, proto, udp, self.port, bins)
            if argv is None:
                return
            # A session of its own: stop() ends socat's forked children too.
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         start_new_session=True)
            try:
                wait_ready(self.port, udp, proto, self.proc)
                return
            except RuntimeError as e:
                log(f'  {name}: {e}; retrying')
                self.stop()
        raise RuntimeError(f'{name} would not start')

    @property
    def available(self):
        return self.proc is not None

    def stop(self):
        if self.proc is None:
            return
        pgid = self.proc.pid  # the session leader: its pid is the group id
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        # socat children stuck in a blocking write ignore nothing but KILL.
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ------------------------------------------------------------------ cases

def cases(args):
    d = str(args.duration)
    bulk = args.bulk
    return [
        # name, proto, udp, bench args, metric, skip(server) -> reason
        ('echo-64B-c1', 'echo', False, ['echo', '-c', '1', '-s', '64', '-d', d], 'ops_per_s'),
        ('echo-64B-c50', 'echo', False, ['echo', '-c', '50', '-s', '64', '-d', d], 'ops_per_s'),
        ('echo-64B-c1000', 'echo', False, ['echo', '-c', '1000', '-s', '64', '-d', d], 'ops_per_s'),
        (f'bulk-{bulk}-c1', 'echo', False, ['echo', '-c', '1', '--bulk', bulk, '--timeout', '5'], 'gb_per_s'),
        (f'bulk-{bulk}-c8', 'echo', False, ['echo', '-c', '8', '--bulk', bulk, '--timeout', '5'], 'gb_per_s'),
        ('daytime-c8', 'daytime', False, ['daytime', '-c', '8', '-d', d], 'ops_per_s'),
        ('udp-echo-64B-c8', 'echo', True, ['echo', '--udp', '-c', '8', '-s', '64', '-d', d], 'ops_per_s'),
        ('udp-daytime-c8', 'daytime', True, ['daytime', '--udp', '-c', '8', '-d', d], 'ops_per_s'),
        (f'idle-{args.idle}', 'echo', False, None, 'rss_mib'),
    ]


def not_applicable(server, case):
    name, proto, udp = case[0], case[1], case[2]
    if server == 'py-lecture' and proto == 'echo':
        return 'line mode: one line, then close'
    if server == 'py-lecture' and udp:
        return 'no UDP server in the lecture'
    if server == 'socat' and name.startswith('idle-'):
        return 'a process per connection'
    return None


def run_bench(netlab, bench_args, port, pid):
    argv = [netlab, 'bench'] + bench_args[:1] + [HOST, str(port)] + bench_args[1:] + \
        ['--json', '--server-pid', str(pid)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    report = json.loads(out.stdout) if out.stdout.strip() else None
    if report is None or out.returncode not in (0,):
        err = out.stderr.strip().splitlines()[-1:] or ['']
        return report, f'exit {out.returncode}: {err[0]}'
    return report, None


def run_idle(server, args, netlab):
    """Hold args.idle connections from a separate process, read the
    server's RSS, and time a new client while they are held."""
    rss_before = rss_kib(server.proc.pid)
    holder = subprocess.Popen(
        [sys.executable, os.path.join(BENCH, 'python', 'hold.py'), HOST, str(server.port),
         str(args.idle), '60'],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = holder.stdout.readline().strip()
        held = int(line.split()[1]) if line.startswith('held ') else 0
        rss = rss_kib(server.proc.pid)
        report, err = run_bench(netlab, ['echo', '-c', '1', '-s', '64', '-d', '1', '--timeout', '5'],
                                server.port, server.proc.pid)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    result = {'held': held, 'rss_kib_before': rss_before, 'rss_kib': rss, 'error': err}
    if report:
        result['new_client_p50_us'] = report['latency']['p50_us']
        result['new_client_p99_us'] = report['latency']['p99_us']
        result['new_client_ops_per_s'] = report['ops_per_s']
    return result


def rss_kib(pid):
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---------------------------------------------------------------- report

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(reports):
    ok = [r for r in reports if r]
    if not ok:
        return None
    metric = ok[0]['workload']
    return {
        'ops_per_s': median([r['ops_per_s'] for r in ok]),
        'gb_per_s': median([r['gb_per_s'] for r in ok]),
        'p50_us': median([r['latency']['p50_us'] for r in ok]),
        'p99_us': median([r['latency']['p99_us'] for r in ok]),
        'cpu_per_op': median([r['server']['cpu_us_per_op'] for r in ok if r.get('server')]),
        'client_cpu_per_op': median([r.get('client_cpu_us_per_op') for r in ok]),
        'cpu_unit': ok[0]['cpu_unit'],
        'errors': sum(r['errors'] for r in ok),
        'mismatches': sum(r['mismatches'] for r in ok),
        'losses': sum(r['losses'] for r in ok),
        'runs': len(ok),
        'workload': metric,
    }


def fmt_num(v, unit):
    if v is None:
        return 'n/a'
    if unit == 'GB/s':
        return f'{v:.2f} GB/s'
    if unit == 'us':
        if v >= 1_000_000:
            return f'{v / 1_000_000:.2f} s'
        return f'{v / 1000:.2f} ms' if v >= 1000 else f'{v:.0f} µs'
    if unit == 'cpu':
        return f'{v:.2f} µs'
    if unit == 'MiB':
        return f'{v:.1f} MiB'
    if v >= 10_000:
        return f'{v / 1000:.0f}k/s'
    return f'{v:.0f}/s'


def cell(value, ref, unit, lower_is_better=False):
    text = fmt_num(value, unit)
    if value is None or ref is None or ref == 0 or value == 0:
        return text
    return f'{text} ({value / ref:.2f}x)'


def table(results, servers, case_list):
    head = '| case | metric | ' + ' | '.join(servers) + ' |'
    lines = [head, '|' + '---|' * (len(servers) + 2)]
    for case in case_list:
        name = case[0]
        row = results.get(name, {})
        ref = row.get('tokio')
        if name.startswith('idle-'):
            metrics = [('server RSS', 'rss_mib', 'MiB'),
                       ('new client p99', 'new_client_p99_us', 'us'),
                       ('held', 'held', 'n')]
        else:
            main = 'gb_per_s' if case[4] == 'gb_per_s' else 'ops_per_s'
            unit = 'GB/s' if main == 'gb_per_s' else 'rate'
            cpu_unit = (next((r['cpu_unit'] for r in row.values() if isinstance(r, dict) and r.get('cpu_unit')), 'op'))
            metrics = [('throughput', main, unit), ('p99 latency', 'p99_us', 'us'),
                       (f'server CPU per {cpu_unit}', 'cpu_per_op', 'cpu')]
        for label, key, unit in metrics:
            cells = []
            for s in servers:
                r = row.get(s)
                if isinstance(r, str):
                    cells.append(f'n/a ({r})' if label in ('throughput', 'server RSS') else 'n/a')
                    continue
                if r is None:
                    cells.append('n/a')
                    continue
                v = r.get(key)
                rv = ref.get(key) if isinstance(ref, dict) else None
                if key == 'held':
                    cells.append(str(v))
                elif unit == 'cpu' and v is not None and 'GB' in label:
                    cells.append(cell(v / 1000, rv / 1000 if rv else None, 'cpu').replace('µs', 'ms'))
                else:
                    cells.append(cell(v, rv, unit))
            lines.append(f'| {name if label == metrics[0][0] else ""} | {label} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


# ------------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--quick', action='store_true', help='one 1-second run per cell, 64 MiB bulk, 2,000 idle')
    p.add_argument('--runs', type=int, default=None)
    p.add_argument('--duration', type=float, default=None)
    p.add_argument('--servers', default=','.join(SERVERS))
    p.add_argument('--cases', default=None, help='comma-separated case names (prefix match)')
    p.add_argument('--json-out', default=None)
    p.add_argument('--no-build', action='store_true')
    args = p.parse_args()
    args.runs = args.runs or (1 if args.quick else 3)
    args.duration = args.duration or (1.0 if args.quick else 3.0)
    args.bulk = '64M' if args.quick else '256M'
    args.idle = 2000 if args.quick else 10000
    args.servers = [s for s in args.servers.split(',') if s]
    bins = (os.path.join(os.environ.get('CARGO_TARGET_DIR', os.path.join(ROOT, 'target')), 'release', 'netlab'),
            os.path.join(BENCH, 'tokio-ref', 'target', 'release', 'tokio-ref'))
    if not args.no_build:
        bins = build(args)
    case_list = cases(args)
    if args.cases:
        wanted = args.cases.split(',')
        case_list = [c for c in case_list if any(c[0].startswith(w) for w in wanted)]

    started = time.monotonic()
    results = {}
    raw = {}
    for case in case_list:
        name, proto, udp, bench_args, metric = case
        results[name] = {}
        for s in args.servers:
            reason = not_applicable(s, case)
            if reason:
                results[name][s] = reason
                continue
            try:
                server = Server(s, proto, udp, bins)
            except RuntimeError as e:
                results[name][s] = str(e)
                continue
            if not server.available:
                results[name][s] = 'not available'
                continue
            try:
                if bench_args is None:
                    r = run_idle(server, args, bins[0])
                    r['rss_mib'] = r['rss_kib'] / 1024
                    results[name][s] = r
                    raw.setdefault(name, {})[s] = r
                    log(f'{name:18} {s:13} held {r["held"]}, RSS {r["rss_mib"]:.1f} MiB, '
                        f'new client p99 {r.get("new_client_p99_us")} µs {r["error"] or ""}')
                    continue
                reports, errs = [], []
                for _ in range(args.runs):
                    rep, err = run_bench(bins[0], bench_args, server.port, server.proc.pid)
                    reports.append(rep)
                    if err:
                        errs.append(err)
                raw.setdefault(name, {})[s] = reports
                summary = summarize(reports)
                if summary is None:
                    results[name][s] = errs[0] if errs else 'no result'
                else:
                    results[name][s] = summary
                log(f'{name:18} {s:13} ' + (
                    f'{summary["ops_per_s"]:.0f} ops/s, {summary["gb_per_s"]:.3f} GB/s, p99 '
                    f'{summary["p99_us"]:.0f} µs, cpu/op {summary["cpu_per_op"]}, '
                    f'err {summary["errors"]} mism {summary["mismatches"]} lost {summary["losses"]}'
                    if summary else 'n/a') + (f'  [{errs[0]}]' if errs else ''))
            finally:
                server.stop()

    cores = os.cpu_count()
    print(f'netlab bench comparison: {cores} cores shared by server and load generator, '
          f'medians of {args.runs} run(s) of {args.duration:g} s, bulk {args.bulk} per connection; '
          f'ratios are against tokio ((x) = this / tokio).\n')
    print(table(results, args.servers, case_list))
    print()
    for s in args.servers:
        print(f'- {s}: {SERVER_NOTES[s]}')
    print(f'\n(took {time.monotonic() - started:.0f} s)')
    if args.json_out:
        with open(args.json_out, 'w') as f:
            json.dump({'cores': cores, 'runs': args.runs, 'duration': args.duration,
                       'results': results, 'raw': raw}, f, indent=1)


if __name__ == '__main__':
    main()
