//! Accepted connections that write feed traffic in batches.
//!
//! h2 writes a DATA frame whose payload is larger than its copy threshold
//! (256 bytes) straight from that payload, so every such frame is its own
//! system call, and it flushes the socket before queueing the next one. A
//! feed event carries the challenge's snapshot (about 1 kB), so an event
//! sent to the 20 subscribers sharing one HTTP/2 connection cost 20 writes,
//! and on loopback each write also runs the reader's side of TCP. No crate
//! offers a write-combining transport for h2 (tokio's `BufWriter` writes on
//! every flush, and h2 flushes after every such frame), hence this one.
//!
//! A [`Coalesced`] connection writes in one of two ways:
//! - **Directly**, as a plain socket would, while no feed stream is open on
//!   it: a unary response leaves at once, with no extra task hop.
//! - **In batches**, while a feed stream holds [`ConnectionInfo::batch_writes`]:
//!   a write copies the bytes into the connection's pending buffer and wakes
//!   the connection's writer task. The writer yields (up to `MAX_YIELDS`
//!   times, while the batch grows), so that the tasks woken together with
//!   the connection (every stream an event reached) queue their frames too,
//!   then writes everything pending at once. The cost is one copy of each
//!   byte, one task wake-up per batch and a few hundred microseconds of
//!   delay under load; the gain is several frames per system call.
//!
//! Either way it keeps:
//! - Order: the bytes leave in the order they were written (a direct write
//!   is only made when nothing is pending or being written).
//! - Back-pressure: past [`HIGH_WATER`] pending bytes a write waits until the
//!   writer has made room, as it would wait on a full socket.
//! - Shutdown: `poll_shutdown` completes once everything pending is written
//!   and the write side is shut down.
//! - No leak: when the connection is dropped, the writer still sends what is
//!   pending (as the kernel would after a close), but gives up after
//!   [`DRAIN_ON_DROP`] if the peer does not read.
//!
//! In batch mode a flush completes as soon as the bytes are in the pending
//! buffer: they are committed to the writer, as bytes in a kernel socket
//! buffer are.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Notify, oneshot};
use tokio_stream::{Stream, StreamExt};
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming};

/// Pending bytes past which a write waits for the writer.
pub const HIGH_WATER: usize = 256 * 1024;

/// How many times the writer yields while its batch keeps growing. A
/// yield lasts until the worker thread's queue is empty or its next
/// maintenance (tokio's `yield_now`), so a batch gathers what the tasks run
/// in the meantime queued, and waits a few hundred microseconds at most
/// under load.
const MAX_YIELDS: usize = 4;

/// How long a dropped connection's writer keeps trying to send what is
/// pending to a peer that does not read.
pub const DRAIN_ON_DROP: Duration = Duration::from_secs(5);

/// The connections accepted on `listener`, with `TCP_NODELAY` (without it,
/// Nagle's algorithm meets the client's delayed ACK and holds small
/// responses and stream messages ~40 ms).
pub fn incoming(listener: TcpListener) -> impl Stream<Item = io::Result<Coalesced>> {
    TcpIncoming::from(listener).with_nodelay(Some(true)).map(|accepted| accepted.map(Coalesced::new))
}

/// A TCP connection that writes directly, or in batches through a writer
/// task of its own while a feed stream asks for it. Create it inside a
/// tokio runtime: it spawns that task.
pub struct Coalesced {
    read: OwnedReadHalf,
    shared: Arc<Shared>,
    info: ConnectionInfo,
    // Dropped with the connection: starts the writer's drain deadline.
    _alive: oneshot::Sender<()>,
}

/// What a call learns of its connection (tonic puts it in every request's
/// extensions): the two addresses, and the switch to batched writes.
#[derive(Clone)]
pub struct ConnectionInfo {
    /// The local and remote addresses.
    pub tcp: TcpConnectInfo,
    batching: Arc<AtomicUsize>,
}

/// While it lives, its connection writes in batches.
pub struct BatchWrites(Arc<AtomicUsize>);

impl ConnectionInfo {
    /// Ask the connection to batch its writes until the guard is dropped:
    /// for a stream that will send many messages alongside other streams.
    pub fn batch_writes(&self) -> BatchWrites {
        self.batching.fetch_add(1, Ordering::Relaxed);
        BatchWrites(self.batching.clone())
    }
}

impl Drop for BatchWrites {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the writer: bytes pending, or the connection closing.
    work: Notify,
    /// The socket's write half: written directly by the connection while
    /// nothing is pending or being written, otherwise by the writer.
    /// Dropping the last handle shuts the write side down.
    half: OwnedWriteHalf,
}

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    /// The writer has taken a batch and not finished writing it.
    writing: bool,
    /// Shutdown asked for, or the connection dropped: nothing more comes.
    closing: bool,
    /// The write side is shut down after everything pending was written, or
    /// the writer failed.
    shut: bool,
    /// The writer failed; what is pending is lost and the connection is dead.
    failed: Option<io::ErrorKind>,
    /// The connection, waiting for room or for the shutdown to finish.
    waiting: Option<Waker>,
}

impl Coalesced {
    /// Split `stream` and start its writer.
    pub fn new(stream: TcpStream) -> Coalesced {
        Coalesced::with_drain(stream, DRAIN_ON_DROP)
    }

    fn with_drain(stream: TcpStream, drain: Duration) -> Coalesced {
        let info = ConnectionInfo { tcp: stream.connect_info(), batching: Arc::new(AtomicUsize::new(0)) };
        let (read, half) = stream.into_split();
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), work: Notify::new(), half });
        let (alive, gone) = oneshot::channel();
        tokio::spawn(write_out(shared.clone(), gone, drain));
        Coalesced { read, shared, info, _alive: alive }
    }

    /// Write `bufs` to the socket at once if the connection is not batching
    /// and nothing is queued before them; otherwise copy as much as fits
    /// below [`HIGH_WATER`] into the pending buffer and wake the writer.
    fn push(&self, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        let mut state = self.shared.lock();
        if let Some(kind) = state.failed {
            return Poll::Ready(Err(kind.into()));
        }
        if state.closing {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let idle = state.pending.is_empty() && !state.writing;
        if idle && self.info.batching.load(Ordering::Relaxed) == 0 {
            // Under the lock, so that the writer cannot start a batch meanwhile.
            match self.shared.half.try_write_vectored(bufs) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        let mut room = HIGH_WATER.saturating_sub(state.pending.len());
        if room == 0 {
            state.waiting = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let mut taken = 0;
        for buf in bufs {
            let n = buf.len().min(room);
            state.pending.extend_from_slice(&buf[..n]);
            taken += n;
            room -= n;
            if room == 0 {
                break;
            }
        }
        drop(state);
        // A writer busy with an earlier batch looks again before it waits.
        if idle {
            self.shared.work.notify_one();
        }
        Poll::Ready(Ok(taken))
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The lock guards plain data and no code panics while holding it;
        // a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn wake_connection(&self) {
        let waker = self.lock().waiting.take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Write all of `buf`, waiting for the socket to take it.
    async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            self.half.writable().await?;
            match self.half.try_write(buf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => buf = &buf[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// The writer task: waits for pending bytes, yields while the tasks woken
/// with the connection add theirs, then writes the whole batch.
async fn write_out(shared: Arc<Shared>, gone: oneshot::Receiver<()>, drain: Duration) {
    // Completes `drain` after the connection is dropped; only ever raced
    // against a write, which ends the task when it loses.
    let abandoned = async move {
        let _ = gone.await;
        tokio::time::sleep(drain).await;
    };
    tokio::pin!(abandoned);
    let mut batch = Vec::new();
    loop {
        loop {
            let work = shared.work.notified();
            {
                let state = shared.lock();
                if !state.pending.is_empty() || state.closing {
                    break;
                }
            }
            work.await;
        }
        let mut seen = shared.lock().pending.len();
        for _ in 0..MAX_YIELDS {
            tokio::task::yield_now().await;
            let now = shared.lock().pending.len();
            if now == seen {
                break;
            }
            seen = now;
        }

        let closing = {
            let mut state = shared.lock();
            std::mem::swap(&mut state.pending, &mut batch);
            state.writing = !batch.is_empty();
            state.closing
        };
        if batch.is_empty() {
            if closing {
                let result = socket2::SockRef::from(shared.half.as_ref()).shutdown(std::net::Shutdown::Write);
                let mut state = shared.lock();
                state.shut = true;
                // A peer that already reset the connection leaves nothing to shut.
                state.failed = result.err().map(|e| e.kind()).filter(|k| *k != io::ErrorKind::NotConnected);
                drop(state);
                shared.wake_connection();
                return;
            }
            continue;
        }
        let written = tokio::select! {
            result = shared.write_all(&batch) => result,
            () = &mut abandoned => Err(io::ErrorKind::TimedOut.into()),
        };
        let mut state = shared.lock();
        state.writing = false;
        if let Err(error) = written {
            state.failed = Some(error.kind());
            state.shut = true;
            state.pending = Vec::new();
            drop(state);
            shared.wake_connection();
            return;
        }
        drop(state);
        batch.clear();
        if batch.capacity() > HIGH_WATER {
            batch = Vec::new();
        }
        shared.wake_connection();
    }
}

impl Drop for Coalesced {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.work.notify_one();
    }
}

impl AsyncRead for Coalesced {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl AsyncWrite for Coalesced {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.push(cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.push(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.shared.lock().failed {
            Some(kind) => Poll::Ready(Err(kind.into())),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.shared.lock();
        if state.shut {
            return Poll::Ready(match state.failed {
                Some(kind) => Err(kind.into()),
                None => Ok(()),
            });
        }
        state.closing = true;
        state.waiting = Some(cx.waker().clone());
        drop(state);
        self.shared.work.notify_one();
        Poll::Pending
    }
}

impl Connected for Coalesced {
    type ConnectInfo = ConnectionInfo;

    fn connect_info(&self) -> ConnectionInfo {
        self.info.clone()
    }
}

#[cfg(test)]
mod tests;
