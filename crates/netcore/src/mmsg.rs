//! `recvmmsg(2)` and `sendmmsg(2)` (Linux): many datagrams per system call.
//!
//! A busy UDP service finds several datagrams queued each time it looks;
//! taking them all with one `recvmmsg` and answering them all with one
//! `sendmmsg` divides the system-call cost per request by the batch size.
//! `MSG_WAITFORONE` takes whatever is already queued after the first
//! datagram without waiting for more; on the engine's nonblocking socket
//! an empty queue is `WouldBlock`, and the receiver waits in its poll.
//!
//! This is the only module of netcore with `unsafe` code: the two calls take
//! arrays of C structures pointing at our buffers. Every pointer handed to
//! the kernel points into memory owned by [`Batch`] or by the caller's reply
//! buffers, which outlive the call, and the lengths given are those
//! buffers' lengths.
#![allow(unsafe_code)]

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;
use std::ptr;

/// Datagrams taken per call.
pub(crate) const BATCH: usize = 16;

/// Receive buffers and source addresses for one batch.
pub(crate) struct Batch {
    /// `BATCH` buffers of `size` bytes, back to back.
    bufs: Vec<u8>,
    size: usize,
    addrs: Vec<libc::sockaddr_storage>,
    addr_lens: [libc::socklen_t; BATCH],
    lens: [usize; BATCH],
}

impl Batch {
    /// Room for [`BATCH`] datagrams of up to `size` bytes each.
    pub(crate) fn new(size: usize) -> Self {
        Batch {
            bufs: vec![0; BATCH * size],
            size,
            // SAFETY: sockaddr_storage is plain old data; all zeroes is a
            // valid (AF_UNSPEC) value.
            addrs: vec![unsafe { zeroed() }; BATCH],
            addr_lens: [0; BATCH],
            lens: [0; BATCH],
        }
    }

    /// Takes up to [`BATCH`] datagrams queued on `fd` (on a blocking socket,
    /// waiting for the first). Returns how many; `WouldBlock` when a
    /// nonblocking socket has none.
    pub(crate) fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        // SAFETY: zeroed iovec and mmsghdr are valid (null pointers, zero
        // lengths); every pointer set below points into self, which is
        // borrowed mutably for the whole call.
        let mut iovs: [libc::iovec; BATCH] = unsafe { zeroed() };
        let mut msgs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        // One pointer to each array, offset per slot: re-borrowing the
        // vectors per slot would invalidate the pointers already taken.
        let bufs = self.bufs.as_mut_ptr();
        let addrs = self.addrs.as_mut_ptr();
        for (i, (iov, msg)) in iovs.iter_mut().zip(msgs.iter_mut()).enumerate() {
            // SAFETY: i < BATCH, and bufs holds BATCH * size bytes, addrs
            // BATCH entries.
            iov.iov_base = unsafe { bufs.add(i * self.size) }.cast();
            iov.iov_len = self.size;
            msg.msg_hdr.msg_name = unsafe { addrs.add(i) }.cast();
            msg.msg_hdr.msg_namelen = socklen(size_of::<libc::sockaddr_storage>());
            msg.msg_hdr.msg_iov = iov;
            msg.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: msgs holds BATCH valid headers whose buffers (iovs, bufs,
        // addrs) stay alive and unmoved until the call returns.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                msgs.as_mut_ptr(),
                BATCH as libc::c_uint,
                // The flags' C type differs between libcs (int, unsigned).
                libc::MSG_WAITFORONE as _,
                ptr::null_mut(),
            )
        };
        let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
        for (i, msg) in msgs.iter().enumerate().take(n) {
            self.lens[i] = msg.msg_len as usize;
            self.addr_lens[i] = msg.msg_hdr.msg_namelen;
        }
        Ok(n)
    }

    /// Datagram `i` of the last [`Batch::recv`]: its payload and sender
    /// (`None` for a sender that is not an IP address).
    pub(crate) fn datagram(&self, i: usize) -> (&[u8], Option<SocketAddr>) {
        let start = i * self.size;
        let payload = &self.bufs[start..start + self.lens[i].min(self.size)];
        (payload, to_socket_addr(&self.addrs[i], self.addr_lens[i]))
    }

    /// Sends `replies[i]` to the sender of datagram `i`, for each `i` in
    /// `to`, with as few `sendmmsg` calls as the kernel allows. Returns the
    /// datagrams whose reply failed, with the error.
    pub(crate) fn send(
        &self,
        fd: RawFd,
        to: &[usize],
        replies: &[Vec<u8>],
    ) -> Vec<(usize, io::Error)> {
        let k = to.len().min(BATCH);
        // SAFETY: as in recv; the reply buffers are borrowed for the call.
        let mut iovs: [libc::iovec; BATCH] = unsafe { zeroed() };
        let mut msgs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        for (slot, &i) in to.iter().take(k).enumerate() {
            iovs[slot].iov_base = replies[i].as_ptr().cast_mut().cast();
            iovs[slot].iov_len = replies[i].len();
            msgs[slot].msg_hdr.msg_name = ptr::from_ref(&self.addrs[i]).cast_mut().cast();
            msgs[slot].msg_hdr.msg_namelen = self.addr_lens[i];
            msgs[slot].msg_hdr.msg_iov = &mut iovs[slot];
            msgs[slot].msg_hdr.msg_iovlen = 1;
        }
        let mut failed = Vec::new();
        let mut sent = 0;
        while sent < k {
            // SAFETY: msgs[sent..k] are valid headers pointing at live
            // buffers; the kernel only reads them.
            let r = unsafe {
                libc::sendmmsg(fd, msgs[sent..].as_mut_ptr(), (k - sent) as libc::c_uint, 0)
            };
            match usize::try_from(r) {
                Ok(0) => break,
                Ok(n) => sent += n,
                Err(_) => {
                    let e = io::Error::last_os_error();
                    if e.kind() == io::ErrorKind::Interrupted {
                        continue;
                    }
                    // The first unsent reply failed: skip it, send the rest.
                    failed.push((to[sent], e));
                    sent += 1;
                }
            }
        }
        failed
    }
}

fn socklen(n: usize) -> libc::socklen_t {
    libc::socklen_t::try_from(n).unwrap_or(libc::socklen_t::MAX)
}

/// A kernel socket address as a std one.
fn to_socket_addr(ss: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
    let len = len as usize;
    match libc::c_int::from(ss.ss_family) {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says this storage holds a sockaddr_in, and
            // sockaddr_storage is large and aligned enough for any address.
            let sin = unsafe { &*ptr::from_ref(ss).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6 = unsafe { &*ptr::from_ref(ss).cast::<libc::sockaddr_in6>() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_batch_round_trips_datagrams_on_both_families() {
        for local in ["127.0.0.1:0", "[::1]:0"] {
            let server = UdpSocket::bind(local).unwrap();
            let client = UdpSocket::bind(local).unwrap();
            client.connect(server.local_addr().unwrap()).unwrap();
            for payload in [&b"one"[..], b"", b"three"] {
                client.send(payload).unwrap();
            }
            let mut batch = Batch::new(65_536);
            let mut got = Vec::new();
            // Three datagrams, possibly over more than one call.
            for _ in 0..3 {
                if got.len() == 3 {
                    break;
                }
                let n = batch.recv(server.as_raw_fd()).unwrap();
                for i in 0..n {
                    let (data, from) = batch.datagram(i);
                    assert_eq!(from, Some(client.local_addr().unwrap()));
                    got.push(data.to_vec());
                }
                let replies: Vec<Vec<u8>> = (0..n)
                    .map(|i| batch.datagram(i).0.to_ascii_uppercase())
                    .collect();
                let to: Vec<usize> = (0..n).collect();
                assert!(batch.send(server.as_raw_fd(), &to, &replies).is_empty());
            }
            assert_eq!(got, [b"one".to_vec(), vec![], b"three".to_vec()]);
            let mut buf = [0u8; 16];
            for expected in [&b"ONE"[..], b"", b"THREE"] {
                let n = client.recv(&mut buf).unwrap();
                assert_eq!(&buf[..n], expected);
            }
        }
    }
}
