//! One connection to an AJP13 backend, over TCP or a Unix domain socket, with its receive
//! buffer: writes whole packets and reads messages parsed in place (no copy, no allocation per
//! message). While it streams a large body it borrows a large buffer (`large`), so one read
//! takes in several body packets, and `read_run` hands the ones already buffered over together
//! (one write to the client).
use super::lent_buffers;
use super::{BackendError, OpenConnections};
use crate::ajp::{self, Response, CPING_PACKET, HEADER_LEN};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The socket under a connection: one branch per call, no indirection.
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(t),
            Stream::Unix(s) => s.set_read_timeout(t),
        }
    }

    fn shutdown(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
        }
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Tcp(s) => s.as_fd(),
            Stream::Unix(s) => s.as_fd(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_vectored(bufs),
            Stream::Unix(s) => s.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Most body packets one `read_run` returns.
pub const MAX_RUN: usize = 8;

/// The next message, and how many body parts `read_run` put in the caller's array: when it
/// is a non-empty SEND_BODY_CHUNK, its bytes and those of the non-empty SEND_BODY_CHUNK
/// packets buffered right behind it (all borrowed from the receive buffer, valid until the
/// next read), and the END_RESPONSE buffered right behind those. The parts stay in the
/// caller's array so that a `Run` is small enough to move without a memcpy call.
pub struct Run<'a> {
    pub first: Response<'a>,
    /// Body parts in the array.
    pub parts: usize,
    /// The reuse flag of the END_RESPONSE that follows the body, when it was already here.
    pub end: Option<bool>,
}

/// Where `read_run` puts the body parts of a run.
pub type RunParts<'a> = [&'a [u8]; MAX_RUN];

/// A SEND_BODY_CHUNK's payload beyond its data: the message code, the length and the NUL
/// that Tomcat ends it with.
const BODY_CHUNK_OVERHEAD: usize = 4;

/// One backend connection. The state lives on the heap, so handing a connection from the
/// pool to a request and back moves one pointer (the state is ~180 bytes: each move of it
/// was a memcpy call, about fourteen per request).
pub struct Connection(Box<Link>);

impl std::ops::Deref for Connection {
    type Target = Link;
    fn deref(&self) -> &Link {
        &self.0
    }
}

impl std::ops::DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut Link {
        &mut self.0
    }
}

/// A connection's state (see [`Connection`]).
pub struct Link {
    stream: Stream,
    /// Receive buffer: holds at least one whole packet (`max_packet` bytes); a large one
    /// while `own` is set.
    inbuf: Box<[u8]>,
    /// The connection's own buffer while `inbuf` is a borrowed large one.
    own: Option<Box<[u8]>>,
    /// Unparsed bytes are `inbuf[start..end]`.
    start: usize,
    end: usize,
    max_packet: usize,
    /// The read timeout currently set on the socket, to skip redundant setsockopt calls.
    read_timeout: Option<Duration>,
    /// The socket timeout (`socket_timeout`), used when no reply timeout applies.
    socket_timeout: Option<Duration>,
    /// The longest wait for the next bytes of the current reply (reply or socket timeout).
    reply_wait: Option<Duration>,
    /// When the current reply must be complete (`reply_deadline`); every read waits at most
    /// until then.
    deadline: Option<Instant>,
    idle_since: Instant,
    /// Bytes written and read since the last `take_traffic` (lb Traffic method, statistics).
    bytes_out: u64,
    bytes_in: u64,
    /// Where this connection counts as open, until it is dropped.
    open: Option<Arc<OpenConnections>>,
    /// The worker's address epoch it was opened in (see `live.rs`): one of an older epoch
    /// goes to an old address or has a buffer for an old packet size, and is not reused.
    epoch: u64,
}

impl Connection {
    pub fn connect(
        addr: SocketAddr,
        connect_timeout: Option<Duration>,
        socket_timeout: Option<Duration>,
        max_packet: usize,
        keepalive: bool,
    ) -> io::Result<Connection> {
        let stream = match connect_timeout {
            Some(t) if !t.is_zero() => TcpStream::connect_timeout(&addr, t)?,
            _ => TcpStream::connect(addr)?,
        };
        // AJP messages are small and latency-bound: never wait for Nagle.
        stream.set_nodelay(true)?;
        stream.set_write_timeout(socket_timeout)?;
        stream.set_read_timeout(socket_timeout)?;
        if keepalive {
            set_keepalive(&stream)?;
        }
        Ok(Connection::over(
            Stream::Tcp(stream),
            socket_timeout,
            max_packet,
        ))
    }

    /// A connection to the Unix domain socket at `path`. With a connect timeout the connect
    /// does not block: a listener whose backlog is full fails it at once instead of holding
    /// the request.
    pub fn connect_unix(
        path: &Path,
        connect_timeout: Option<Duration>,
        socket_timeout: Option<Duration>,
        max_packet: usize,
    ) -> io::Result<Connection> {
        let stream = match connect_timeout {
            Some(t) if !t.is_zero() => {
                let socket =
                    socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
                socket.connect_timeout(&socket2::SockAddr::unix(path)?, t)?;
                UnixStream::from(std::os::fd::OwnedFd::from(socket))
            }
            _ => UnixStream::connect(path)?,
        };
        stream.set_write_timeout(socket_timeout)?;
        stream.set_read_timeout(socket_timeout)?;
        Ok(Connection::over(
            Stream::Unix(stream),
            socket_timeout,
            max_packet,
        ))
    }

    fn over(stream: Stream, socket_timeout: Option<Duration>, max_packet: usize) -> Connection {
        Connection(Box::new(Link {
            stream,
            inbuf: vec![0u8; max_packet.max(ajp::DEFAULT_MAX_PACKET)].into_boxed_slice(),
            own: None,
            start: 0,
            end: 0,
            max_packet,
            read_timeout: socket_timeout,
            socket_timeout,
            reply_wait: socket_timeout,
            deadline: None,
            idle_since: Instant::now(),
            bytes_out: 0,
            bytes_in: 0,
            open: None,
            epoch: 0,
        }))
    }
}

impl Connection {
    /// Closes the socket now (e.g. after a client vanished mid-body).
    pub fn close(self) {
        let _ = self.stream.shutdown();
    }
}

impl Link {
    pub(crate) fn set_epoch(&mut self, epoch: u64) {
        self.epoch = epoch;
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Counts this connection as open in `open` until it is dropped.
    pub(crate) fn count_in(&mut self, open: Arc<OpenConnections>) {
        open.opened();
        self.open = Some(open);
    }

    /// This end's address: tells pooled connections apart in tests.
    #[cfg(test)]
    pub fn local_addr(&self) -> SocketAddr {
        let unknown = SocketAddr::from(([0, 0, 0, 0], 0));
        match &self.stream {
            Stream::Tcp(s) => s.local_addr().unwrap_or(unknown),
            Stream::Unix(_) => unknown,
        }
    }

    pub fn idle_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.idle_since)
    }

    pub fn mark_idle(&mut self, now: Instant) {
        self.idle_since = now;
    }

    /// Whether an idle pooled connection still looks usable: the backend has not closed it and
    /// has sent nothing unasked. One non-blocking peek (MSG_PEEK | MSG_DONTWAIT), no state change.
    pub fn is_alive(&self) -> bool {
        let mut probe = [std::mem::MaybeUninit::<u8>::uninit(); 1];
        match socket2::SockRef::from(&self.stream)
            .recv_with_flags(&mut probe, libc::MSG_PEEK | libc::MSG_DONTWAIT)
        {
            Err(e) => e.kind() == ErrorKind::WouldBlock,
            // 0 = orderly close; > 0 = bytes nobody asked for: either way, not reusable.
            Ok(_) => false,
        }
    }

    /// True when bytes the backend sent are still unread (a desynchronised connection).
    pub fn has_unread(&self) -> bool {
        self.start != self.end
    }

    /// Writes several buffers as one stream with as few system calls as the kernel allows
    /// (FORWARD_REQUEST and the first body packet go out together).
    pub fn send_parts(&mut self, parts: &[&[u8]]) -> Result<(), BackendError> {
        let mut slices: Vec<std::io::IoSlice<'_>> = Vec::new();
        let mut storage = [std::io::IoSlice::new(&[]), std::io::IoSlice::new(&[])];
        let bufs: &mut [std::io::IoSlice<'_>] = if parts.len() <= storage.len() {
            for (slot, part) in storage.iter_mut().zip(parts) {
                *slot = std::io::IoSlice::new(part);
            }
            &mut storage[..parts.len()]
        } else {
            slices.extend(parts.iter().map(|p| std::io::IoSlice::new(p)));
            &mut slices
        };
        let mut bufs = bufs;
        while bufs.iter().any(|b| !b.is_empty()) {
            match self.stream.write_vectored(bufs) {
                Ok(0) => return Err(BackendError::Send(ErrorKind::WriteZero.into())),
                Ok(n) => {
                    self.bytes_out += n as u64;
                    std::io::IoSlice::advance_slices(&mut bufs, n)
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(BackendError::Send(e)),
            }
        }
        Ok(())
    }

    pub fn send(&mut self, bytes: &[u8]) -> Result<(), BackendError> {
        self.stream.write_all(bytes).map_err(BackendError::Send)?;
        self.bytes_out += bytes.len() as u64;
        Ok(())
    }

    /// (written, read) bytes since the last call.
    pub fn take_traffic(&mut self) -> (u64, u64) {
        let t = (self.bytes_out, self.bytes_in);
        self.bytes_out = 0;
        self.bytes_in = 0;
        t
    }

    /// Sets the limits of the reply to the request just sent: each read waits at most
    /// `reply` (`reply_timeout`; the socket timeout when `None`), and the whole reply must be
    /// in by `deadline` (`reply_deadline`), however the backend paces its bytes.
    pub fn set_reply_limits(
        &mut self,
        reply: Option<Duration>,
        deadline: Option<Instant>,
    ) -> Result<(), BackendError> {
        self.reply_wait = reply.or(self.socket_timeout);
        self.deadline = deadline;
        self.apply_read_timeout(self.reply_wait)
    }

    fn apply_read_timeout(&mut self, wanted: Option<Duration>) -> Result<(), BackendError> {
        if wanted != self.read_timeout {
            self.stream
                .set_read_timeout(wanted)
                .map_err(BackendError::Recv)?;
            self.read_timeout = wanted;
        }
        Ok(())
    }

    /// Before a read under a deadline: the wait shrinks to the time left; none left is
    /// [`BackendError::Deadline`].
    fn wait_within(&mut self, at: Instant) -> Result<(), BackendError> {
        let left = at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(BackendError::Deadline);
        }
        let wait = match self.reply_wait {
            Some(w) if w < left => w,
            _ => left,
        };
        self.apply_read_timeout(Some(wait))
    }

    /// Reads until `inbuf[start..end]` holds at least `need` bytes.
    #[inline]
    fn fill(&mut self, need: usize) -> Result<(), BackendError> {
        // Most calls find the bytes there already (a packet's header and payload arrive
        // together): that test is all they cost.
        if self.end - self.start >= need {
            return Ok(());
        }
        self.read_for(need)
    }

    /// [`Self::fill`] when a read is needed.
    fn read_for(&mut self, need: usize) -> Result<(), BackendError> {
        let len = self.inbuf.len();
        if self.start + need > len || (self.start > 0 && len - self.end < self.max_packet) {
            // Move the partial packet to the front so a whole packet fits and the next read
            // can take in a packet or more.
            self.inbuf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end - self.start < need {
            if let Some(at) = self.deadline {
                self.wait_within(at)?;
            }
            match self.stream.read(&mut self.inbuf[self.end..]) {
                Ok(0) => {
                    return Err(BackendError::Closed {
                        mid_packet: self.end != self.start,
                    })
                }
                Ok(n) => {
                    self.end += n;
                    self.bytes_in += n as u64;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(match self.deadline {
                        Some(at) if Instant::now() >= at => BackendError::Deadline,
                        _ => BackendError::Timeout,
                    });
                }
                Err(e) => return Err(BackendError::Recv(e)),
            }
        }
        Ok(())
    }

    /// Reads the next packet and returns the range of its payload in `inbuf`. The payload stays
    /// in place until the next `fill`.
    fn next_packet(&mut self) -> Result<(usize, usize), BackendError> {
        self.fill(HEADER_LEN)?;
        let len = payload_len_at(&self.inbuf, self.start, self.max_packet)
            .map_err(BackendError::Protocol)?;
        self.fill(HEADER_LEN + len)?;
        let from = self.start + HEADER_LEN;
        consume_to(&mut self.start, &mut self.end, from + len);
        Ok((from, len))
    }

    /// Reads and parses the next message from the backend.
    pub fn read_message(&mut self) -> Result<Response<'_>, BackendError> {
        let mut parts: RunParts<'_> = [&[]; MAX_RUN];
        Ok(self.read_run(false, None, &mut parts)?.first)
    }

    /// Reads the next message like `read_message`; when it is a non-empty body chunk and
    /// `gather` is set, also takes the complete non-empty body chunks already buffered behind it
    /// (no further read, so no added wait), and a complete END_RESPONSE right after them.
    /// Anything else (an empty chunk, which asks for a flush, a partial or malformed packet) is
    /// left for the next read.
    ///
    /// `body_left`: the body bytes the response still declares (None: unknown). A body that
    /// needs another read is read in large pieces, unless it fits one packet of the
    /// connection's own buffer.
    pub fn read_run<'a>(
        &'a mut self,
        gather: bool,
        body_left: Option<u64>,
        parts: &mut RunParts<'a>,
    ) -> Result<Run<'a>, BackendError> {
        if gather
            && self.own.is_none()
            && !self.holds_whole_packet()
            && !self.one_packet_holds(body_left)
        {
            self.borrow_large();
        }
        let (from, len) = self.next_packet()?;
        let buf: &[u8] = &self.inbuf;
        let first = ajp::parse_payload(&buf[from..from + len]).map_err(BackendError::Protocol)?;
        let mut run = Run {
            first,
            parts: 0,
            end: None,
        };
        if let Response::BodyChunk(data) = first {
            if !data.is_empty() {
                parts[0] = data;
                run.parts = 1;
            }
        }
        if !gather || run.parts == 0 {
            return Ok(run);
        }
        let (mut at, end) = (self.start, self.end);
        // Only a body chunk can join the run: look at the message code before parsing (the
        // END_RESPONSE that usually follows is left alone).
        while run.parts < MAX_RUN
            && end - at > HEADER_LEN
            && buf[at + HEADER_LEN] == ajp::SEND_BODY_CHUNK
        {
            let len = match payload_len_at(buf, at, self.max_packet) {
                Ok(len) if end - at >= HEADER_LEN + len => len,
                _ => break,
            };
            let payload = &buf[at + HEADER_LEN..at + HEADER_LEN + len];
            match ajp::parse_payload(payload) {
                Ok(Response::BodyChunk(data)) if !data.is_empty() => {
                    parts[run.parts] = data;
                    run.parts += 1;
                    at += HEADER_LEN + len;
                }
                _ => break,
            }
        }
        // The END_RESPONSE that usually comes right after the body, if it is here whole and
        // well-formed (anything else is left for the next read, which reports it).
        if end - at > HEADER_LEN && buf[at + HEADER_LEN] == ajp::END_RESPONSE {
            if let Ok(len) = payload_len_at(buf, at, self.max_packet) {
                if end - at >= HEADER_LEN + len {
                    let payload = &buf[at + HEADER_LEN..at + HEADER_LEN + len];
                    if let Ok(Response::EndResponse { reuse }) = ajp::parse_payload(payload) {
                        run.end = Some(reuse);
                        at += HEADER_LEN + len;
                    }
                }
            }
        }
        if at != self.start {
            consume_to(&mut self.start, &mut self.end, at);
        }
        Ok(run)
    }

    /// Whether `body_left` bytes of body fit one SEND_BODY_CHUNK packet, which the
    /// connection's own buffer always holds whole. Backends answer small pages in pieces
    /// (Tomcat writes the headers, the body chunk and END_RESPONSE separately): the piece
    /// still to come is read into the connection's own buffer, and the process's few large
    /// buffers stay free for the bodies that span several packets.
    fn one_packet_holds(&self, body_left: Option<u64>) -> bool {
        body_left.is_some_and(|left| {
            left <= self
                .max_packet
                .saturating_sub(HEADER_LEN + BODY_CHUNK_OVERHEAD) as u64
        })
    }

    /// Whether the buffer holds the next packet whole (no read needed for it).
    fn holds_whole_packet(&self) -> bool {
        let have = self.end - self.start;
        if have < HEADER_LEN {
            return false;
        }
        // A bad header is reported by the read that follows, from whichever buffer.
        payload_len_at(&self.inbuf, self.start, self.max_packet)
            .map_or(true, |len| have >= HEADER_LEN + len)
    }

    /// Switches to a large buffer, moving the unread bytes, if one is free.
    fn borrow_large(&mut self) {
        if self.inbuf.len() >= lent_buffers::LARGE_BUFFER {
            return;
        }
        let Some(mut big) = lent_buffers::borrow() else {
            return;
        };
        let n = self.end - self.start;
        big[..n].copy_from_slice(&self.inbuf[self.start..self.end]);
        self.own = Some(std::mem::replace(&mut self.inbuf, big));
        self.start = 0;
        self.end = n;
    }

    /// Gives a borrowed large buffer back (the response is over), moving unread bytes, if any,
    /// to the connection's own buffer; keeps it if they would not fit.
    pub fn release_large(&mut self) {
        let n = self.end - self.start;
        let Some(own) = self.own.as_mut() else {
            return;
        };
        if n > own.len() {
            return;
        }
        own[..n].copy_from_slice(&self.inbuf[self.start..self.end]);
        let own = self.own.take().expect("checked above");
        lent_buffers::give_back(std::mem::replace(&mut self.inbuf, own));
        self.start = 0;
        self.end = n;
    }

    /// Whether a large buffer is lent to this connection now.
    pub fn holds_large(&self) -> bool {
        self.own.is_some()
    }

    /// CPing / CPong round trip within `timeout`; tolerates one stray non-CPong packet, as a
    /// leftover of an earlier response (reference §6.6 item 7).
    pub fn cping(&mut self, timeout: Duration) -> Result<(), BackendError> {
        self.send(&CPING_PACKET)
            .map_err(|e| BackendError::Ping(e.to_string()))?;
        let saved = self.read_timeout;
        // A CPing has its own limit, whatever the last reply's deadline was.
        self.deadline = None;
        self.stream
            .set_read_timeout(Some(timeout))
            .map_err(|e| BackendError::Ping(e.to_string()))?;
        self.read_timeout = Some(timeout);
        let mut result = Err(BackendError::Ping("no CPong".into()));
        for _ in 0..2 {
            match self.read_message() {
                Ok(Response::CPong) => {
                    result = Ok(());
                    break;
                }
                Ok(_) => continue,
                Err(e) => {
                    result = Err(BackendError::Ping(e.to_string()));
                    break;
                }
            }
        }
        if result.is_ok() {
            self.stream
                .set_read_timeout(saved)
                .map_err(|e| BackendError::Ping(e.to_string()))?;
            self.read_timeout = saved;
        }
        result
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Some(open) = self.open.take() {
            open.closed();
        }
        if self.own.is_some() {
            lent_buffers::give_back(std::mem::take(&mut self.inbuf));
        }
    }
}

/// Payload length of the packet whose header starts at `buf[at..]` (which holds the header).
fn payload_len_at(buf: &[u8], at: usize, max_packet: usize) -> Result<usize, ajp::ProtocolError> {
    let mut header = [0u8; HEADER_LEN];
    header.copy_from_slice(&buf[at..at + HEADER_LEN]);
    ajp::parse_header(&header, max_packet)
}

/// Marks `buf[..to]` as read: `start = to`, and both back to the front when nothing is left.
fn consume_to(start: &mut usize, end: &mut usize, to: usize) {
    *start = to;
    if *start == *end {
        // Nothing buffered beyond: the next read may start at the front again (a payload
        // handed out stays in place until then).
        *start = 0;
        *end = 0;
    }
}

/// SO_KEEPALIVE (`socket_keepalive`), which std does not offer.
fn set_keepalive(stream: &TcpStream) -> io::Result<()> {
    socket2::SockRef::from(stream).set_keepalive(true)
}
