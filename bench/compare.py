#!/usr/bin/env python3
"""Side-by-side benchmark: netlab's servers against a tokio reference, a
C floor, socat and the lecture's Python servers, all driven by `netlab
bench`, in interleaved rounds.

Builds everything in release mode (the floor with `cc -O2`), then for each
case runs every server once per round, the order rotating from round to
round, each against a freshly started server on a free loopback port
(polled until it answers, never a fixed sleep). A cell is the median over
rounds with its min-max spread, never one run: on a shared 2-core machine
one run moves by 20-30 %, and a server measured minutes after another is
measured on a different machine.

    python3 bench/compare.py            # the full matrix, 3 rounds (about 8 minutes)
    python3 bench/compare.py --quick    # 1 s runs, smaller bulk and idle (about 3 minutes)

Options: --rounds N (default 3), --duration SECS, --servers netlab,tokio,...,
--cases echo-64B-c1,..., --json-out FILE (every round's raw report),
--baseline PATH (another build of `netlab`, e.g. the last commit's, as a
column of its own run in the same rounds: "did this change make it slower?").
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

SERVERS = ['netlab', 'tokio', 'floor', 'socat', 'py-lecture', 'py-threading']
SERVER_NOTES = {
    'netlab': 'netlab serve ... -q (mio event loops, one per two cores: one here)',
    'baseline': 'the --baseline build of netlab, same flags',
    'tokio': 'bench/tokio-ref (multi-thread runtime, task per connection)',
    'floor': 'bench/floor/*.c, cc -O2: epoll echo, accept-write-close daytime, '
             'recvmmsg/sendmmsg UDP; no limits, no logging, no policy',
    'socat': 'socat ...,fork PIPE / EXEC:date (process per connection)',
    'py-lecture': "the lecture's iterative daytimeserver.py / echoserver.py (line mode)",
    'py-threading': 'socketserver ThreadingTCPServer, stream-mode echo; UDPServer for UDP',
}
FLOOR_SOURCES = {'echo_epoll': 'echo_epoll.c', 'daytime_accept': 'daytime_accept.c',
                 'udp_batch': 'udp_batch.c'}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# --------------------------------------------------------------- building

def target_dir():
    return os.environ.get('CARGO_TARGET_DIR', os.path.join(ROOT, 'target'))


def binaries():
    """Where each built program is: netlab, tokio-ref, the floor's dir."""
    return {
        'netlab': os.path.join(target_dir(), 'release', 'netlab'),
        'tokio': os.path.join(BENCH, 'tokio-ref', 'target', 'release', 'tokio-ref'),
        'floor': os.path.join(target_dir(), 'floor'),
    }


def build(args):
    bins = binaries()
    log('building netlab (release) ...')
    subprocess.run(['cargo', 'build', '--release', '-q', '-p', 'netlab-cli'],
                   cwd=ROOT, check=True, env=dict(os.environ, CARGO_TARGET_DIR=target_dir()))
    log('building bench/tokio-ref (release) ...')
    tokio_dir = os.path.join(BENCH, 'tokio-ref')
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(tokio_dir, 'target'))
    subprocess.run(['cargo', 'build', '--release', '-q'], cwd=tokio_dir, check=True, env=env)
    if 'floor' in args.servers:
        cc = os.environ.get('CC', 'cc')
        log(f'building the floor ({cc} -O2) ...')
        os.makedirs(bins['floor'], exist_ok=True)
        for name, source in FLOOR_SOURCES.items():
            subprocess.run([cc, '-O2', '-Wall', '-Wextra', '-o', os.path.join(bins['floor'], name),
                            os.path.join(BENCH, 'floor', source)], check=True)
    if 'socat' in args.servers and not shutil.which('socat'):
        log('socat is missing: apt-get install -y socat')
        subprocess.run(['apt-get', 'install', '-y', '-q', 'socat'], check=False,
                       stdout=subprocess.DEVNULL)
        if not shutil.which('socat'):
            log('socat could not be installed: its column is n/a')
            args.servers = [s for s in args.servers if s != 'socat']
    return bins


# ---------------------------------------------------------------- servers

def server_argv(name, proto, udp, port, bins):
    """The command that runs server `name` for `proto` ('echo' or
    'daytime') on `port`, or None where that server cannot take part."""
    py = sys.executable
    if name in ('netlab', 'baseline'):
        argv = [bins[name], 'serve', proto, '--host', HOST, '--port', str(port), '-q']
        # A connection limit means nothing to UDP (and is refused with --udp).
        return argv + (['--udp'] if udp else ['--max-connections', '20000'])
    if name == 'tokio':
        return [bins['tokio'], proto, str(port)] + (['--udp'] if udp else [])
    if name == 'floor':
        if udp:
            return [os.path.join(bins['floor'], 'udp_batch'), proto, HOST, str(port)]
        program = 'echo_epoll' if proto == 'echo' else 'daytime_accept'
        return [os.path.join(bins['floor'], program), HOST, str(port)]
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
        # name, proto, udp, bench args (None: idle), metric
        ('echo-64B-c1', 'echo', False, ['echo', '-c', '1', '-s', '64', '-d', d], 'ops_per_s'),
        ('echo-64B-c50', 'echo', False, ['echo', '-c', '50', '-s', '64', '-d', d], 'ops_per_s'),
        ('echo-64B-c1000', 'echo', False, ['echo', '-c', '1000', '-s', '64', '-d', d], 'ops_per_s'),
        (f'bulk-{bulk}-c1', 'echo', False, ['echo', '-c', '1', '--bulk', bulk, '--timeout', '5'], 'gb_per_s'),
        (f'bulk-{bulk}-c8', 'echo', False, ['echo', '-c', '8', '--bulk', bulk, '--timeout', '5'], 'gb_per_s'),
        ('daytime-c8', 'daytime', False, ['daytime', '-c', '8', '-d', d], 'ops_per_s'),
        # One request in flight per socket: mostly the round trip's wake-ups.
        ('udp-echo-64B-c8', 'echo', True, ['echo', '--udp', '-c', '8', '-s', '64', '-d', d], 'ops_per_s'),
        ('udp-daytime-c8', 'daytime', True, ['daytime', '--udp', '-c', '8', '-d', d], 'ops_per_s'),
        # 16 sockets x 4 in flight: the server always has datagrams queued,
        # so this measures its cost per datagram.
        ('udp-echo-64B-c16x4', 'echo', True,
         ['echo', '--udp', '-c', '16', '--depth', '4', '-s', '64', '-d', d], 'ops_per_s'),
        (f'idle-{args.idle}', 'echo', False, None, 'rss_mib'),
    ]


def not_applicable(server, case):
    name, proto, udp = case[0], case[1], case[2]
    if server == 'py-lecture' and udp:
        return 'no UDP server in the lecture'
    if server == 'py-lecture' and proto == 'echo':
        return 'line mode: one line, then close'
    if server == 'socat' and name.startswith('idle-'):
        return 'a process per connection'
    if server == 'socat' and udp and '--depth' in (case[3] or []):
        return 'a process per datagram'
    return None


def run_bench(netlab, bench_args, port, pid):
    argv = [netlab, 'bench'] + bench_args[:1] + [HOST, str(port)] + bench_args[1:] + \
        ['--json', '--server-pid', str(pid)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    report = json.loads(out.stdout) if out.stdout.strip() else None
    if report is None or out.returncode != 0:
        err = out.stderr.strip().splitlines()[-1:] or ['']
        return report, f'exit {out.returncode}: {err[0]}'
    return report, None


def run_idle(server, args, netlab):
    """Hold args.idle connections from a separate process, read the
    server's RSS, and time a new client while they are held."""
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
    result = {'held': held, 'rss_mib': rss / 1024, 'error': err}
    if report:
        result['new_client_p99_us'] = report['latency']['p99_us']
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


def run_once(server_name, case, args, bins):
    """One run of `case` against a fresh `server_name`: a flat dict of
    figures, or a string saying why there is none."""
    name, proto, udp, bench_args, _ = case
    try:
        server = Server(server_name, proto, udp, bins)
    except RuntimeError as e:
        return str(e)
    if not server.available:
        return 'not available'
    try:
        if bench_args is None:
            return run_idle(server, args, bins['netlab'])
        report, err = run_bench(bins['netlab'], bench_args, server.port, server.proc.pid)
        if report is None:
            return err or 'no result'
        return {
            'ops_per_s': report['ops_per_s'],
            'gb_per_s': report['gb_per_s'],
            'p50_us': report['latency']['p50_us'],
            'p99_us': report['latency']['p99_us'],
            'cpu_per_op': (report.get('server') or {}).get('cpu_us_per_op'),
            'client_cpu_per_op': report.get('client_cpu_us_per_op'),
            'cpu_unit': report['cpu_unit'],
            'errors': report['errors'],
            'mismatches': report['mismatches'],
            'losses': report['losses'],
            'error': err,
        }
    finally:
        server.stop()


def rotated(servers, round_index):
    k = round_index % len(servers) if servers else 0
    return servers[k:] + servers[:k]


# ---------------------------------------------------------------- summary

SUMMED = ('errors', 'mismatches', 'losses')


def summarize(runs):
    """Rounds of one (case, server) into {key: (median, min, max)} for
    figures, sums for the counters; a string when no round gave figures."""
    ok = [r for r in runs if isinstance(r, dict)]
    if not ok:
        return next((r for r in runs if isinstance(r, str)), 'no result')
    out = {'rounds': len(ok), 'cpu_unit': ok[0].get('cpu_unit')}
    for key in ok[0]:
        values = [r.get(key) for r in ok]
        if key in SUMMED:
            out[key] = sum(v or 0 for v in values)
        elif all(isinstance(v, (int, float)) for v in values):
            out[key] = (statistics.median(values), min(values), max(values))
    errors = [r['error'] for r in ok if r.get('error')]
    if errors:
        out['note'] = errors[0]
    return out


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
    if unit == 'cpu-ms':
        return f'{v / 1000:.0f} ms'
    if unit == 'MiB':
        return f'{v:.1f} MiB'
    if unit == 'n':
        return f'{v:.0f}'
    if v >= 10_000:
        return f'{v / 1000:.0f}k/s'
    return f'{v:.0f}/s'


def spread(lo, hi, unit):
    """The min-max range, short: `170k–190k`, `5.1–5.6`."""
    a, b = fmt_num(lo, unit), fmt_num(hi, unit)
    for suffix in (' GB/s', '/s', ' µs', ' ms', ' s', ' MiB'):
        if a.endswith(suffix) and b.endswith(suffix):
            return f'{a[:-len(suffix)]}–{b}'
    return f'{a}–{b}'


def cell(figure, ref, unit, rounds):
    """`median (min–max) ratio` with the ratio against `ref`'s median."""
    med, lo, hi = figure
    text = fmt_num(med, unit)
    if rounds > 1 and unit != 'n':
        text += f' ({spread(lo, hi, unit)})'
    if ref and med and ref[0] and unit != 'n':
        text += f' {med / ref[0]:.2f}x'
    return text


def metrics_of(case, row):
    if case[4] == 'rss_mib':
        return [('server RSS', 'rss_mib', 'MiB'), ('new client p99', 'new_client_p99_us', 'us'),
                ('held', 'held', 'n')]
    unit = next((r['cpu_unit'] for r in row.values() if isinstance(r, dict) and r.get('cpu_unit')),
                'op')
    main = ('throughput', 'gb_per_s', 'GB/s') if case[4] == 'gb_per_s' else \
        ('throughput', 'ops_per_s', 'rate')
    return [main, ('p99 latency', 'p99_us', 'us'),
            (f'server CPU per {unit}', 'cpu_per_op', 'cpu-ms' if unit == 'GB' else 'cpu')]


def table(results, servers, case_list, rounds, ref_name):
    with_floor = 'floor' in servers and 'netlab' in servers
    extra = ['netlab / floor'] if with_floor else []
    lines = ['| case | metric | ' + ' | '.join(servers + extra) + ' |',
             '|' + '---|' * (len(servers) + len(extra) + 2)]
    for case in case_list:
        row = results.get(case[0], {})
        ref = row.get(ref_name) if isinstance(row.get(ref_name), dict) else {}
        metrics = metrics_of(case, row)
        for label, key, unit in metrics:
            cells = []
            for s in servers:
                r = row.get(s)
                if isinstance(r, str):
                    cells.append(f'n/a ({r})' if label == metrics[0][0] else 'n/a')
                elif r is None or r.get(key) is None:
                    cells.append('n/a')
                elif unit.startswith('cpu') and not r[key][0]:
                    # Zero CPU is never real: the /proc walk missed the
                    # process that did the work (socat's forked child).
                    cells.append('n/a (not measured)')
                else:
                    cells.append(cell(r[key], ref.get(key), unit, r['rounds']))
            if with_floor:
                ours, floor = row.get('netlab'), row.get('floor')
                if (isinstance(ours, dict) and isinstance(floor, dict) and ours.get(key)
                        and floor.get(key) and floor[key][0] and unit != 'n'):
                    cells.append(f'{ours[key][0] / floor[key][0]:.2f}x')
                else:
                    cells.append('')
            first = case[0] if label == metrics[0][0] else ''
            lines.append(f'| {first} | {label} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def checks(results):
    """Lines naming every cell whose runs had errors, mismatches, losses
    or a failed run: a figure is only as good as its checks."""
    out = []
    for name, row in results.items():
        for s, r in row.items():
            if not isinstance(r, dict):
                continue
            bad = {k: r[k] for k in SUMMED if r.get(k)}
            if bad or r.get('note'):
                out.append(f'- {name} / {s}: ' + ', '.join(f'{v} {k}' for k, v in bad.items())
                           + (f' ({r["note"]})' if r.get('note') else ''))
    return out


# ------------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--quick', action='store_true',
                   help='1-second runs, 64 MiB bulk, 2,000 idle (rounds unchanged)')
    p.add_argument('--rounds', type=int, default=3,
                   help='rounds; each runs every server once per case, the order rotating')
    p.add_argument('--duration', type=float, default=None)
    p.add_argument('--servers', default=','.join(SERVERS))
    p.add_argument('--cases', default=None, help='comma-separated case names (prefix match)')
    p.add_argument('--json-out', default=None)
    p.add_argument('--no-build', action='store_true')
    p.add_argument('--ref', default=None, metavar='SERVER',
                   help='the column ratios are taken against (default: tokio, or baseline '
                        'when tokio is not run)')
    p.add_argument('--baseline', default=None, metavar='PATH',
                   help='another netlab binary, run as the column "baseline" beside netlab')
    args = p.parse_args()
    if args.rounds < 1:
        p.error('--rounds must be at least 1')
    args.duration = args.duration or (1.0 if args.quick else 3.0)
    args.bulk = '64M' if args.quick else '256M'
    args.idle = 2000 if args.quick else 10000
    args.servers = [s for s in args.servers.split(',') if s]
    if args.baseline:
        if not os.access(args.baseline, os.X_OK):
            p.error(f'--baseline {args.baseline} is not an executable file')
        if 'baseline' not in args.servers:
            args.servers.insert(args.servers.index('netlab') + 1 if 'netlab' in args.servers else 0,
                                'baseline')
    unknown = [s for s in args.servers if s not in SERVERS and s != 'baseline']
    if unknown:
        p.error(f'unknown server {unknown[0]}; choose from {",".join(SERVERS)}')
    if 'baseline' in args.servers and not args.baseline:
        p.error('the baseline column needs --baseline PATH')
    if args.ref is None:
        args.ref = 'tokio' if 'tokio' in args.servers or 'baseline' not in args.servers \
            else 'baseline'
    bins = binaries() if args.no_build else build(args)
    bins['baseline'] = args.baseline
    case_list = cases(args)
    if args.cases:
        wanted = args.cases.split(',')
        case_list = [c for c in case_list if any(c[0].startswith(w) for w in wanted)]

    started = time.monotonic()
    results, raw = {}, {}
    for case in case_list:
        name = case[0]
        runnable = [s for s in args.servers if not not_applicable(s, case)]
        runs = {s: [] for s in runnable}
        for r in range(args.rounds):
            for s in rotated(runnable, r):
                figures = run_once(s, case, args, bins)
                runs[s].append(figures)
                log(f'{name:20} round {r + 1}/{args.rounds} {s:13} ' + (
                    figures if isinstance(figures, str) else
                    ', '.join(f'{k} {v:.4g}' for k, v in figures.items()
                              if isinstance(v, (int, float)))))
        results[name] = {s: not_applicable(s, case) or summarize(runs.get(s, []))
                         for s in args.servers}
        raw[name] = runs

    cores = os.cpu_count()
    print(f'netlab bench comparison: {cores} cores shared by server and load generator; '
          f'each cell the median of {args.rounds} interleaved round(s) (min–max in brackets), '
          f'{args.duration:g} s per run, bulk {args.bulk} per connection; '
          f'Nx = this / {args.ref}.\n')
    print(table(results, args.servers, case_list, args.rounds, args.ref))
    print()
    for s in args.servers:
        print(f'- {s}: {SERVER_NOTES[s]}')
    bad = checks(results)
    if bad:
        print('\nChecks that did not pass (these cells are suspect):')
        print('\n'.join(bad))
    print(f'\n(the run took {time.monotonic() - started:.0f} s)')
    if args.json_out:
        with open(args.json_out, 'w') as f:
            json.dump({'cores': cores, 'rounds': args.rounds, 'duration': args.duration,
                       'results': results, 'raw': raw}, f, indent=1)


if __name__ == '__main__':
    main()
