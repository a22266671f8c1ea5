//! Micro-benchmarks of the pure hot paths a server runs per request: the
//! echo state machine (stream and line mode) and the daytime formatter.
//! The end-to-end figures come from `netlab bench`; these isolate the
//! protocol logic from the kernel.
#![allow(missing_docs)]

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use daytime::DaytimeFormat;
use echo::{Echo, LineBuffer, Mode};
use netcore::{Connection, ConnectionInfo, Handler, Server};

fn info() -> ConnectionInfo {
    ConnectionInfo::new(1).with_addrs(
        "127.0.0.1:50000".parse().expect("literal address"),
        "127.0.0.1:7".parse().expect("literal address"),
    )
}

fn echo_stream(c: &mut Criterion) {
    let info = info();
    let mut group = c.benchmark_group("echo_stream_on_data");
    for size in [64usize, 16 * 1024] {
        let data = vec![0x5au8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &data, |b, data| {
            let mut handler = Echo::new(Mode::Stream).handler(&info);
            let mut out = Vec::with_capacity(size);
            b.iter(|| {
                out.clear();
                let mut conn = Connection::new(&info, &mut out);
                black_box(handler.on_data(&mut conn, black_box(data)));
            });
        });
    }
    group.finish();
}

fn echo_line(c: &mut Criterion) {
    let info = info();
    let line = b"Hello, COS 333. This is one line of the lecture's echo client.\n";
    let mut group = c.benchmark_group("echo_line");
    group.throughput(Throughput::Bytes(line.len() as u64));
    group.bench_function("handler_one_line", |b| {
        let server = Echo::new(Mode::Line);
        let mut out = Vec::with_capacity(128);
        b.iter(|| {
            out.clear();
            let mut handler = server.handler(&info);
            let mut conn = Connection::new(&info, &mut out);
            black_box(handler.on_data(&mut conn, black_box(line)));
        });
    });
    group.bench_function("line_buffer_split_in_3", |b| {
        b.iter(|| {
            let mut buf = LineBuffer::new(echo::DEFAULT_MAX_LINE);
            buf.push(black_box(&line[..10]));
            buf.push(black_box(&line[10..40]));
            black_box(buf.push(black_box(&line[40..])));
            black_box(buf.line().len())
        });
    });
    group.finish();
}

fn daytime_format(c: &mut Criterion) {
    let now = Utc
        .with_ymd_and_hms(2026, 2, 11, 16, 32, 10)
        .single()
        .expect("a valid date");
    let mut group = c.benchmark_group("daytime_line");
    let formats = [
        ("lecture_local", DaytimeFormat::lecture()),
        ("lecture_utc", DaytimeFormat::lecture().utc(true)),
        ("inetd_utc", DaytimeFormat::inetd().utc(true)),
    ];
    for (name, format) in formats {
        group.bench_function(name, |b| b.iter(|| black_box(format.line(black_box(now)))));
    }
    group.finish();
}

criterion_group!(benches, echo_stream, echo_line, daytime_format);
criterion_main!(benches);
