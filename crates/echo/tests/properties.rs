//! Echo returns exactly its input, however the bytes are cut up: by the
//! client's writes, by the reads the server happens to make, and by the
//! client's reads. Checked on the pure level (the handler and
//! [`LineBuffer`] fed chunk by chunk, as netcore's loop feeds them) and
//! over a real loopback socket with random write and read sizes.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use echo::{Echo, LineBuffer, LineStep, Mode};
use netcore::{Builder, Connection, ConnectionInfo, Flow, Handler, Server};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// `data` cut at the given points (each taken modulo the length, so any
/// vector of numbers is a valid cutting).
fn chunks<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    at.push(0);
    at.push(data.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| &data[w[0]..w[1]]).collect()
}

/// What a handler of `server` sends for `pieces`, then end-of-file,
/// driven the way netcore's loop drives it; and the last flow.
fn serve(server: Echo, pieces: &[&[u8]]) -> (Vec<u8>, Flow) {
    let info = ConnectionInfo::new(1);
    let mut handler = server.handler(&info);
    let mut out = Vec::new();
    let mut conn = Connection::new(&info, &mut out);
    let mut flow = handler.on_open(&mut conn);
    for piece in pieces {
        if flow != Flow::Continue {
            break;
        }
        flow = handler.on_data(&mut conn, piece);
    }
    if flow == Flow::Continue {
        handler.on_eof(&mut conn);
    }
    (out, flow)
}

proptest! {
    #[test]
    fn stream_mode_echoes_any_chunking(
        data in proptest::collection::vec(any::<u8>(), 0..4096),
        cuts in proptest::collection::vec(any::<usize>(), 0..32),
    ) {
        let (out, flow) = serve(Echo::new(Mode::Stream), &chunks(&data, &cuts));
        prop_assert_eq!(out, data);
        prop_assert_eq!(flow, Flow::Continue);
    }

    #[test]
    fn line_mode_echoes_the_first_line_under_any_chunking(
        // Newlines made common, so most inputs hold a line or several.
        data in proptest::collection::vec(prop_oneof![3 => any::<u8>(), 1 => Just(b'\n')], 0..512),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
        max in 1usize..600,
    ) {
        let line_end = data.iter().position(|&b| b == b'\n').map(|i| i + 1);
        let first = &data[..line_end.unwrap_or(data.len())];
        let (out, flow) = serve(Echo::new(Mode::Line).max_line(max), &chunks(&data, &cuts));
        if first.len() > max {
            // Refused without a reply, whatever the chunking.
            prop_assert!(out.is_empty());
            prop_assert_eq!(flow, Flow::Abort);
        } else {
            prop_assert_eq!(&out[..], first);
            let expected = if line_end.is_some() { Flow::Close } else { Flow::Continue };
            prop_assert_eq!(flow, expected);
        }
    }

    #[test]
    fn line_buffer_is_the_same_under_any_chunking(
        data in proptest::collection::vec(prop_oneof![7 => any::<u8>(), 1 => Just(b'\n')], 0..512),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        let mut whole = LineBuffer::new(1024);
        let whole_step = whole.push(&data);
        let mut cut = LineBuffer::new(1024);
        let mut step = LineStep::NeedMore;
        for piece in chunks(&data, &cuts) {
            step = cut.push(piece);
        }
        if data.is_empty() {
            step = cut.push(&[]);
        }
        prop_assert_eq!(step, whole_step);
        prop_assert_eq!(cut.line(), whole.line());
    }
}

/// Sends `data` in writes of the given sizes from one thread while this
/// one reads with the given buffer sizes, until the server closes after
/// our half-close.
fn round_trip(port: u16, data: &[u8], writes: &[usize], reads: &[usize]) -> Vec<u8> {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connecting to the echo server");
    let limit = Some(Duration::from_secs(10));
    stream.set_read_timeout(limit).expect("read timeout");
    stream.set_write_timeout(limit).expect("write timeout");
    let mut writer = stream.try_clone().expect("a second handle");
    let (data_out, writes) = (data.to_vec(), writes.to_vec());
    // Writing from another thread: a large input must not deadlock on
    // both sides' full buffers.
    let sender = std::thread::spawn(move || {
        let mut rest = &data_out[..];
        let mut sizes = writes.iter().cycle();
        while !rest.is_empty() {
            let size = sizes
                .next()
                .copied()
                .unwrap_or(rest.len())
                .clamp(1, rest.len());
            writer
                .write_all(&rest[..size])
                .expect("writing to the echo server");
            rest = &rest[size..];
        }
        writer.shutdown(Shutdown::Write).expect("half-closing");
    });
    let mut got = Vec::new();
    let mut reader = &stream;
    let mut sizes = reads.iter().cycle();
    // Bounded: every read returns at least a byte or ends the loop, and
    // the server never sends more than it got.
    for _ in 0..=data.len() {
        let mut buf = vec![0; sizes.next().copied().unwrap_or(1).max(1)];
        let n = reader.read(&mut buf).expect("reading the echo");
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    sender.join().expect("the writer thread");
    got
}

#[test]
fn a_real_socket_echoes_any_chunking() {
    let running = Builder::new("127.0.0.1:0".parse().expect("an address"))
        .serve(Echo::new(Mode::Stream))
        .expect("serving echo on loopback");
    let port = running.local_addr().port();
    // Few cases: each is a real connection.
    let mut runner = TestRunner::new(Config {
        cases: 32,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec(any::<u8>(), 0..200_000),
        proptest::collection::vec(1usize..70_000, 1..8),
        proptest::collection::vec(1usize..70_000, 1..8),
    );
    let result = runner.run(&strategy, |(data, writes, reads)| {
        let got = round_trip(port, &data, &writes, &reads);
        prop_assert_eq!(got.len(), data.len());
        prop_assert!(got == data, "the echo differs from the input");
        Ok(())
    });
    running.shutdown(Duration::from_secs(1));
    if let Err(e) = result {
        panic!("{e}");
    }
}
