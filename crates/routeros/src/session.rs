//! One API session: many tagged commands in flight over one connection.
//!
//! Every command gets its own numeric `.tag`. A single reader task decodes reply
//! sentences and routes each to its command's bounded channel, so a large `print`
//! is consumed row by row instead of being buffered whole. A single writer task owns
//! the socket's write half and sends each sentence (or a batch of queued sentences)
//! with one write.
//!
//! State rules, which are what keep pooled sessions clean:
//! * A [`CommandStream`] dropped before its `!done` (timeout, cancelled future) sends
//!   `/cancel =tag=N` and its tag stays *draining* until the router's `!done`
//!   arrives. A session with draining tags is not handed out for new work
//!   ([`Session::is_reusable`]); the pool waits briefly for the drain or retires it.
//! * I/O errors, EOF, `!fatal`, protocol violations and replies that cannot be routed
//!   *fail* the session: every in-flight command gets the error, later commands get
//!   [`Error::SessionFailed`], and the session is never reused.
//! * A failed session closes its socket at once (both tasks end), even while the
//!   pool or a caller still holds a handle: a router that closed its end must not
//!   leave ours in `CLOSE_WAIT` until the next connection attempt.

use crate::codec::{Decoder, ProtocolError, SizeLimits};
use crate::command::Command;
use crate::connection::BoxedTransport;
use crate::error::{Error, Result};
use crate::reply::{Reply, ReplyKind, Row};
use bytes::BytesMut;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{Notify, mpsc};
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// Tunables of a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionOptions {
    /// Decoder limits (largest word and sentence accepted).
    pub limits: SizeLimits,
    /// Largest total reply, in wire bytes, one command may receive.
    pub max_reply_bytes: usize,
    /// Reply sentences buffered per command before the reader waits for the
    /// consumer (back-pressure towards the router).
    pub channel_capacity: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            limits: SizeLimits::default(),
            max_reply_bytes: 512 << 20,
            channel_capacity: 256,
        }
    }
}

/// Traffic counters, shared by all sessions of one pool entry.
#[derive(Debug, Default)]
pub struct Counters {
    /// Commands sent (including `/login`, `/cancel`, `/quit`).
    pub commands: AtomicU64,
    /// Bytes written to routers.
    pub bytes_sent: AtomicU64,
    /// Bytes read from routers.
    pub bytes_received: AtomicU64,
}

/// What the reader delivers to a command stream.
enum Event {
    /// Consecutive rows of one command, as many as one read brought (at most
    /// [`MAX_BATCH`]): one channel message and one wake-up for each batch
    /// rather than for each of a large print's hundred thousand rows.
    Rows(Vec<Row>),
    Done {
        row: Row,
        traps: Vec<(String, Option<u8>)>,
        unknown: Option<String>,
        /// The command got `!empty` (RouterOS 7.18+: no data).
        empty: bool,
    },
    Failed(Error),
}

enum Slot {
    Active {
        tx: mpsc::Sender<Event>,
        bytes: usize,
        traps: Vec<(String, Option<u8>)>,
        unknown: Option<String>,
        /// `!empty` arrived (RouterOS 7.18+ says "no data" with it).
        empty: bool,
        /// For a command answered only by `!trap`s and `!done` (`/login`): its
        /// path. A `!re` or an unknown reply word then fails the session at
        /// once instead of waiting for a `!done` that may never come.
        strict: Option<String>,
    },
    /// Cancelled or abandoned; waiting for the router's `!done`.
    Draining,
}

/// The commands in flight by tag, locked.
type PendingGuard<'a> = std::sync::MutexGuard<'a, HashMap<u64, Slot>>;

/// A reader's hand-off: the command's channel and what to send on it.
type Delivery = (mpsc::Sender<Event>, Event);

struct Shared {
    pending: Mutex<HashMap<u64, Slot>>,
    failure: OnceLock<Error>,
    closed: Notify,
    draining: AtomicUsize,
    drained: Notify,
    in_flight: AtomicUsize,
    last_used: Mutex<Instant>,
    /// When the session started; [`Shared::last_reply`] counts from here.
    started: Instant,
    /// Nanoseconds from `started` to the last reply sentence, plus one (0:
    /// none yet). Stored by the reader for every sentence, so it is an atomic,
    /// not a lock.
    last_reply: AtomicU64,
    /// Callers waiting in [`Session::answered_since`]; the reader only
    /// notifies `replied` when there are any.
    reply_waiters: AtomicUsize,
    replied: Notify,
    counters: Arc<Counters>,
    max_reply_bytes: usize,
    channel_capacity: usize,
    next_tag: AtomicU64,
    writer: mpsc::UnboundedSender<Vec<u8>>,
    /// The reader and writer tasks, set right after they are spawned; aborted
    /// on failure so the transport (owned by the two halves) is dropped and the
    /// socket closed.
    tasks: OnceLock<[AbortHandle; 2]>,
}

impl Shared {
    /// Records the first failure and drops every pending command's channel, which
    /// their streams then report as that failure.
    fn fail(&self, error: Error) {
        let _ = self.failure.set(error);
        let slots: Vec<Slot> = match self.pending.lock() {
            Ok(mut pending) => pending.drain().map(|(_, s)| s).collect(),
            Err(_) => Vec::new(),
        };
        drop(slots);
        self.in_flight.store(0, Ordering::Relaxed);
        self.draining.store(0, Ordering::Relaxed);
        self.drained.notify_waiters();
        self.closed.notify_waiters();
        self.replied.notify_waiters();
        // Ends both halves' owners, which drops the transport and closes the
        // socket. Aborting the calling task itself (the reader on EOF) is fine:
        // it returns right after this call.
        if let Some(tasks) = self.tasks.get() {
            for task in tasks {
                task.abort();
            }
        }
    }

    fn failure(&self) -> Option<Error> {
        self.failure.get().cloned()
    }

    /// Records that a reply sentence arrived (any sentence: it proves the
    /// router's API is answering on this connection).
    fn note_reply(&self) {
        let nanos = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX - 1);
        self.last_reply.store(nanos + 1, Ordering::SeqCst);
        // SeqCst pairs with `answered_since`: a waiter that registered after
        // this load sees the store above.
        if self.reply_waiters.load(Ordering::SeqCst) > 0 {
            self.replied.notify_waiters();
        }
    }

    /// Whether a reply sentence arrived at or after `since`.
    fn replied_since(&self, since: Instant) -> bool {
        match self.last_reply.load(Ordering::SeqCst) {
            0 => false,
            n => self.started + std::time::Duration::from_nanos(n - 1) >= since,
        }
    }

    /// Sends a command sentence; returns its tag.
    fn send(&self, command: &Command, slot: Slot) -> Result<u64> {
        if let Some(e) = self.failure() {
            return Err(Error::SessionFailed(Arc::new(e)));
        }
        let tag = self.next_tag.fetch_add(1, Ordering::Relaxed);
        let mut buf = Vec::with_capacity(64);
        command.encode_tagged(&tag.to_string(), &mut buf)?;
        {
            let mut pending = self.lock_pending()?;
            match slot {
                Slot::Active { .. } => self.in_flight.fetch_add(1, Ordering::Relaxed),
                Slot::Draining => self.draining.fetch_add(1, Ordering::Relaxed),
            };
            pending.insert(tag, slot);
        }
        if self.writer.send(buf).is_err() {
            let e = self.failure().unwrap_or(Error::Eof);
            return Err(Error::SessionFailed(Arc::new(e)));
        }
        self.counters.commands.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut t) = self.last_used.lock() {
            *t = Instant::now();
        }
        Ok(tag)
    }

    /// Gives back the room a burst of commands took in the pending map: a
    /// `full` probe's hundred tags leave 13 KiB of buckets behind, which every
    /// idle pooled session of a fleet would keep (65 MB for 5,000 routers).
    fn shrink_when_idle(&self) {
        if let Ok(mut pending) = self.pending.lock()
            && pending.is_empty()
            && pending.capacity() > 0
        {
            pending.shrink_to(0);
        }
    }

    fn lock_pending(&self) -> Result<PendingGuard<'_>> {
        self.pending
            .lock()
            .map_err(|_| Error::SessionFailed(Arc::new(Error::Eof)))
    }

    /// Marks an active command as draining and asks the router to cancel it.
    fn abandon(&self, tag: u64) {
        let was_active = match self.pending.lock() {
            Ok(mut pending) => match pending.get_mut(&tag) {
                Some(slot @ Slot::Active { .. }) => {
                    *slot = Slot::Draining;
                    self.in_flight.fetch_sub(1, Ordering::Relaxed);
                    self.draining.fetch_add(1, Ordering::Relaxed);
                    true
                }
                _ => false,
            },
            Err(_) => false,
        };
        if was_active {
            let cancel = Command::new("/cancel").attr("tag", tag.to_string());
            // The /cancel's own `!done` is drained like any abandoned command.
            let _ = self.send(&cancel, Slot::Draining);
        }
    }

    /// Routes one reply. Returns the channel and event to deliver, if any; an
    /// error fails the whole session.
    fn route(&self, reply: Reply) -> Result<Option<Delivery>> {
        if reply.kind == ReplyKind::Fatal {
            return Err(Error::Fatal(reply.fatal_reason()));
        }
        let tag = reply
            .tag()
            .and_then(|t| t.parse::<u64>().ok())
            .ok_or_else(|| Error::UnknownReply(format!("{:?} without a known tag", reply.kind)))?;
        let mut pending = self.lock_pending()?;
        match pending.get(&tag) {
            None => Err(Error::UnknownReply(format!(
                "{:?} for tag {tag} that is not in flight",
                reply.kind
            ))),
            Some(Slot::Draining) => {
                if reply.kind == ReplyKind::Done {
                    pending.remove(&tag);
                    if self.draining.fetch_sub(1, Ordering::Relaxed) == 1 {
                        self.drained.notify_waiters();
                    }
                }
                Ok(None)
            }
            Some(Slot::Active {
                strict: Some(command),
                ..
            }) if matches!(reply.kind, ReplyKind::Re | ReplyKind::Unknown(_)) => {
                let word = match reply.kind {
                    ReplyKind::Unknown(word) => word,
                    _ => "!re".to_string(),
                };
                Err(Error::Protocol(ProtocolError::UnexpectedReply {
                    word,
                    command: command.clone(),
                }))
            }
            Some(Slot::Active { .. }) => Ok(self.deliver(pending, tag, reply)),
        }
    }

    /// A reply for a command whose caller still waits: counted against
    /// `max_reply_bytes` (over it, the command fails and is cancelled), traps
    /// and unknown reply words kept for its `!done`, rows passed on.
    fn deliver(&self, mut pending: PendingGuard<'_>, tag: u64, reply: Reply) -> Option<Delivery> {
        let Some(Slot::Active {
            tx,
            bytes,
            traps,
            unknown,
            empty,
            ..
        }) = pending.get_mut(&tag)
        else {
            return None;
        };
        *bytes += reply.wire_len();
        if *bytes > self.max_reply_bytes {
            let tx = tx.clone();
            let event = Event::Failed(Error::ReplyTooLarge(self.max_reply_bytes));
            if reply.kind == ReplyKind::Done {
                pending.remove(&tag);
                self.in_flight.fetch_sub(1, Ordering::Relaxed);
            } else {
                drop(pending);
                self.abandon(tag);
            }
            return Some((tx, event));
        }
        match reply.kind {
            ReplyKind::Re => Some((tx.clone(), Event::Rows(vec![reply.into_row()]))),
            ReplyKind::Trap => {
                let category = reply
                    .get("category")
                    .and_then(|c| std::str::from_utf8(c).ok().and_then(|c| c.parse().ok()));
                traps.push((reply.message(), category));
                None
            }
            ReplyKind::Unknown(word) => {
                unknown.get_or_insert(word);
                None
            }
            ReplyKind::Done => {
                let Some(Slot::Active {
                    tx,
                    traps,
                    unknown,
                    empty,
                    ..
                }) = pending.remove(&tag)
                else {
                    return None;
                };
                self.in_flight.fetch_sub(1, Ordering::Relaxed);
                let event = Event::Done {
                    row: reply.into_row(),
                    traps,
                    unknown,
                    empty,
                };
                Some((tx, event))
            }
            ReplyKind::Empty => {
                *empty = true;
                None
            }
            ReplyKind::Fatal => None,
        }
    }
}

static NEXT_SESSION_ID: AtomicU64 = AtomicU64::new(1);

struct Inner {
    shared: Arc<Shared>,
    id: u64,
    tasks: [AbortHandle; 2],
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A RouterOS API session. Cheap to clone; the connection closes when the last
/// clone (and the last stream of its commands) is dropped.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.inner.id)
            .field("in_flight", &self.in_flight())
            .field("failed", &self.failure())
            .finish()
    }
}

impl Session {
    /// Starts the reader and writer tasks over an open transport. No login yet:
    /// see [`crate::login`].
    pub fn start(
        transport: BoxedTransport,
        options: SessionOptions,
        counters: Arc<Counters>,
    ) -> Self {
        let (read_half, write_half) = tokio::io::split(transport);
        let (writer_tx, writer_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            pending: Mutex::new(HashMap::new()),
            failure: OnceLock::new(),
            closed: Notify::new(),
            draining: AtomicUsize::new(0),
            drained: Notify::new(),
            in_flight: AtomicUsize::new(0),
            last_used: Mutex::new(Instant::now()),
            started: Instant::now(),
            last_reply: AtomicU64::new(0),
            reply_waiters: AtomicUsize::new(0),
            replied: Notify::new(),
            counters,
            max_reply_bytes: options.max_reply_bytes,
            channel_capacity: options.channel_capacity.max(1),
            next_tag: AtomicU64::new(1),
            writer: writer_tx,
            tasks: OnceLock::new(),
        });
        let reader = tokio::spawn(read_loop(
            shared.clone(),
            read_half,
            Decoder::new(options.limits),
        ));
        let writer = tokio::spawn(write_loop(shared.clone(), write_half, writer_rx));
        let tasks = [reader.abort_handle(), writer.abort_handle()];
        let _ = shared.tasks.set(tasks.clone());
        if shared.failure.get().is_some() {
            // Failed before the handles were set (an instant EOF): close now.
            for task in &tasks {
                task.abort();
            }
        }
        Self {
            inner: Arc::new(Inner {
                shared,
                id: NEXT_SESSION_ID.fetch_add(1, Ordering::Relaxed),
                tasks,
            }),
        }
    }

    /// Process-unique id, for logs.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// Sends `command` and returns the stream of its replies.
    pub fn command(&self, command: &Command) -> Result<CommandStream> {
        self.command_with(command, None)
    }

    fn command_with(&self, command: &Command, strict: Option<String>) -> Result<CommandStream> {
        let (tx, rx) = mpsc::channel(self.inner.shared.channel_capacity);
        let tag = self.inner.shared.send(
            command,
            Slot::Active {
                tx,
                bytes: 0,
                traps: Vec::new(),
                unknown: None,
                empty: false,
                strict,
            },
        )?;
        Ok(CommandStream {
            session: self.clone(),
            tag,
            rx,
            rows: Vec::new().into_iter(),
            finished: false,
        })
    }

    /// Runs `command` to completion and returns its rows, failing with
    /// [`Error::Timeout`] (and cancelling the command) at `deadline`.
    pub async fn rows(&self, command: &Command, deadline: Instant) -> Result<Vec<Row>> {
        let allowed = deadline.saturating_duration_since(Instant::now());
        let stream = self.command(command)?;
        tokio::time::timeout_at(deadline, stream.collect())
            .await
            .map_err(|_| Error::Timeout(allowed, "command"))?
    }

    /// Runs `command` to completion and returns the attributes of its `!done`
    /// (e.g. `ret` of `=count-only=`).
    pub async fn done(&self, command: &Command, deadline: Instant) -> Result<Row> {
        let allowed = deadline.saturating_duration_since(Instant::now());
        let stream = self.command(command)?;
        tokio::time::timeout_at(deadline, stream.finish())
            .await
            .map_err(|_| Error::Timeout(allowed, "command"))?
    }

    /// Runs `command` with `=count-only=` and returns the router's count: the
    /// `=ret=` of its `!done`, or 0 when the router said `!empty` and left
    /// `=ret=` out (what an empty table may get from RouterOS 7.18+, where
    /// `!empty` means "no data"). A `!done` without a number and without
    /// `!empty` is [`Error::UnknownReply`].
    pub async fn count(&self, command: &Command, deadline: Instant) -> Result<u64> {
        let allowed = deadline.saturating_duration_since(Instant::now());
        let stream = self.command(&command.clone().flag("count-only"))?;
        let (done, empty) = tokio::time::timeout_at(deadline, stream.finish_noting_empty())
            .await
            .map_err(|_| Error::Timeout(allowed, "command"))??;
        match done.str("ret").map(str::trim) {
            Some(ret) if !ret.is_empty() => ret.parse().map_err(|_| {
                Error::UnknownReply(format!("count-only reply with a non-numeric =ret={ret}"))
            }),
            _ if empty => Ok(0),
            _ => Err(Error::UnknownReply(
                "count-only reply without =ret= (and without !empty)".into(),
            )),
        }
    }

    /// Like [`Session::done`] for a command whose only replies can be `!trap`s
    /// and `!done` (`/login`): a `!re` or an unknown reply word fails the
    /// session at once with [`ProtocolError::UnexpectedReply`], so a router
    /// answering a login with something else (or with an endless stream) costs
    /// one round trip, not the whole deadline.
    pub async fn done_only(&self, command: &Command, deadline: Instant) -> Result<Row> {
        let allowed = deadline.saturating_duration_since(Instant::now());
        let stream = self.command_with(command, Some(command.path().to_string()))?;
        tokio::time::timeout_at(deadline, stream.finish())
            .await
            .map_err(|_| Error::Timeout(allowed, "command"))?
    }

    /// Waits until the router has sent any reply sentence on this session at
    /// or after `since` (true), or the session fails or `until` passes
    /// (false). A logged-in session that answers is the best evidence that
    /// the router's API is up, without opening a connection to check it.
    pub async fn answered_since(&self, since: Instant, until: Instant) -> bool {
        let shared = &self.inner.shared;
        shared.reply_waiters.fetch_add(1, Ordering::SeqCst);
        let _registered = WaiterGuard(&shared.reply_waiters);
        loop {
            let notified = shared.replied.notified();
            tokio::pin!(notified);
            // Registered before the check, so a reply noted after the check
            // wakes us.
            notified.as_mut().enable();
            if shared.replied_since(since) {
                return true;
            }
            if !self.is_healthy() {
                return false;
            }
            if tokio::time::timeout_at(until, notified).await.is_err() {
                return shared.replied_since(since);
            }
        }
    }

    /// The error that failed this session, if any.
    pub fn failure(&self) -> Option<Error> {
        self.inner.shared.failure()
    }

    /// True while the session has not failed.
    pub fn is_healthy(&self) -> bool {
        self.inner.shared.failure.get().is_none()
    }

    /// True when the session is healthy and no abandoned command is still draining,
    /// i.e. its state is fully known.
    pub fn is_reusable(&self) -> bool {
        self.is_healthy() && self.draining() == 0
    }

    /// Commands awaiting their `!done`.
    pub fn in_flight(&self) -> usize {
        self.inner.shared.in_flight.load(Ordering::Relaxed)
    }

    /// Abandoned commands awaiting their `!done`.
    pub fn draining(&self) -> usize {
        self.inner.shared.draining.load(Ordering::Relaxed)
    }

    /// When a command was last sent.
    pub fn last_used(&self) -> Instant {
        self.inner
            .shared
            .last_used
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|_| Instant::now())
    }

    /// Waits until no command is draining (true) or `until` passes (false).
    pub async fn wait_drained(&self, until: Instant) -> bool {
        loop {
            let notified = self.inner.shared.drained.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.draining() == 0 {
                return self.is_healthy();
            }
            if tokio::time::timeout_at(until, notified).await.is_err() {
                return self.draining() == 0 && self.is_healthy();
            }
        }
    }

    /// Fails the session on purpose (e.g. a validation timeout): in-flight commands
    /// get `error`, and the connection closes once the last handle is dropped.
    pub fn poison(&self, error: Error) {
        self.inner.shared.fail(error);
    }

    /// Ends the session politely: sends `/quit` and waits (until `until`) for the
    /// router's `!fatal` and close.
    pub async fn quit(&self, until: Instant) {
        if !self.is_healthy() {
            return;
        }
        let notified = self.inner.shared.closed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self
            .inner
            .shared
            .send(&Command::new("/quit"), Slot::Draining)
            .is_ok()
        {
            let _ = tokio::time::timeout_at(until, notified).await;
        }
        self.poison(Error::Fatal("session closed by exporter".into()));
    }
}

/// Unregisters a waiter of [`Session::answered_since`], however it ends.
struct WaiterGuard<'a>(&'a AtomicUsize);

impl Drop for WaiterGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The replies of one command, in order. Drop it early to cancel the command.
pub struct CommandStream {
    session: Session,
    tag: u64,
    rx: mpsc::Receiver<Event>,
    /// The rest of the last batch received.
    rows: std::vec::IntoIter<Row>,
    finished: bool,
}

impl CommandStream {
    /// The next `!re` row; `Ok(None)` after a clean `!done`. A command that received
    /// `!trap` reports [`Error::Trap`] at its end (after any rows it produced).
    pub async fn next(&mut self) -> Result<Option<Row>> {
        loop {
            if let Some(row) = self.rows.next() {
                return Ok(Some(row));
            }
            if self.finished {
                return Ok(None);
            }
            match self.rx.recv().await {
                Some(Event::Rows(rows)) => self.rows = rows.into_iter(),
                Some(Event::Done { traps, unknown, .. }) => {
                    self.finished = true;
                    return end_result(traps, unknown).map(|_| None);
                }
                Some(Event::Failed(e)) => {
                    self.finished = true;
                    return Err(e);
                }
                None => {
                    self.finished = true;
                    return Err(self.session.failure().unwrap_or(Error::Eof));
                }
            }
        }
    }

    /// Reads all rows.
    pub async fn collect(mut self) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        while let Some(row) = self.next().await? {
            rows.push(row);
        }
        Ok(rows)
    }

    /// Discards rows and returns the `!done` attributes.
    pub async fn finish(self) -> Result<Row> {
        self.finish_noting_empty().await.map(|(row, _)| row)
    }

    /// [`CommandStream::finish`], also saying whether `!empty` arrived.
    async fn finish_noting_empty(mut self) -> Result<(Row, bool)> {
        loop {
            match self.rx.recv().await {
                Some(Event::Rows(_)) => continue,
                Some(Event::Done {
                    row,
                    traps,
                    unknown,
                    empty,
                }) => {
                    self.finished = true;
                    return end_result(traps, unknown).map(|_| (row, empty));
                }
                Some(Event::Failed(e)) => {
                    self.finished = true;
                    return Err(e);
                }
                None => {
                    self.finished = true;
                    return Err(self.session.failure().unwrap_or(Error::Eof));
                }
            }
        }
    }
}

impl Drop for CommandStream {
    fn drop(&mut self) {
        if !self.finished {
            self.session.inner.shared.abandon(self.tag);
        }
    }
}

fn end_result(traps: Vec<(String, Option<u8>)>, unknown: Option<String>) -> Result<()> {
    let mut traps = traps.into_iter();
    if let Some((message, category)) = traps.next() {
        return Err(Error::Trap {
            message,
            category,
            more: traps.map(|(m, _)| m).collect(),
        });
    }
    match unknown {
        Some(word) => Err(Error::UnknownReply(word)),
        None => Ok(()),
    }
}

/// The read buffer of a session with nothing in flight. A pooled session
/// spends nearly all its life idle, and a fleet of a thousand of them holding
/// the 64 KiB a busy one reads with would pin 64 MB (issue 11's fleet).
const IDLE_READ_BUFFER: usize = 4 * 1024;

/// The smallest step a busy session's read buffer grows by.
const BUSY_READ_CHUNK: usize = 64 * 1024;

/// Makes room in `buf` for the next read: busy, at least [`BUSY_READ_CHUNK`]
/// (so a large print is read in few system calls); idle with nothing
/// buffered, back to [`IDLE_READ_BUFFER`].
fn make_room(buf: &mut BytesMut, decoder: &Decoder, idle: bool) {
    if idle && buf.is_empty() {
        if buf.capacity() > IDLE_READ_BUFFER {
            *buf = BytesMut::with_capacity(IDLE_READ_BUFFER);
        }
        return;
    }
    if buf.capacity() - buf.len() < 8 * 1024 {
        // Grow by what the current word still needs, but never more than
        // 1 MiB at a time: the peer's announcement is not trusted.
        let want = decoder
            .pending_word_remaining(buf)
            .unwrap_or(0)
            .clamp(BUSY_READ_CHUNK, 1 << 20);
        buf.reserve(want);
    }
}

async fn read_loop(shared: Arc<Shared>, mut rd: ReadHalf<BoxedTransport>, mut decoder: Decoder) {
    let mut buf = BytesMut::with_capacity(IDLE_READ_BUFFER);
    let mut batch = Batch::default();
    let error = loop {
        let sentence = match decoder.decode(&mut buf) {
            Ok(Some(s)) => s,
            Ok(None) => {
                batch.flush().await;
                let idle = shared.in_flight.load(Ordering::Relaxed) == 0;
                if idle && buf.is_empty() {
                    shared.shrink_when_idle();
                }
                make_room(&mut buf, &decoder, idle);
                match rd.read_buf(&mut buf).await {
                    Ok(0) => break Error::Eof,
                    Ok(n) => {
                        shared
                            .counters
                            .bytes_received
                            .fetch_add(n as u64, Ordering::Relaxed);
                        continue;
                    }
                    Err(e) => break Error::io(e),
                }
            }
            Err(e) => break Error::Protocol(e),
        };
        shared.note_reply();
        let reply = match Reply::parse(sentence) {
            Ok(r) => r,
            Err(e) => break Error::Protocol(e),
        };
        match shared.route(reply) {
            Ok(Some(delivery)) => batch.add(delivery).await,
            Ok(None) => {}
            Err(e) => break e,
        }
    };
    batch.flush().await;
    shared.fail(error);
}

/// Most rows in one [`Event::Rows`]: bounds what a slow reader's channel
/// holds (its capacity counts batches).
const MAX_BATCH: usize = 64;

/// Rows of one command waiting to be sent as one event.
#[derive(Default)]
struct Batch {
    pending: Option<(mpsc::Sender<Event>, Vec<Row>)>,
}

impl Batch {
    /// Adds a delivery: rows join the batch of their command; anything else
    /// (another command's rows, an end) sends the batch first, so each
    /// command sees its events in order.
    async fn add(&mut self, (tx, event): Delivery) {
        if let Event::Rows(rows) = event {
            match &mut self.pending {
                Some((to, batch)) if to.same_channel(&tx) && batch.len() < MAX_BATCH => {
                    batch.extend(rows);
                }
                _ => {
                    self.flush().await;
                    self.pending = Some((tx, rows));
                }
            }
            return;
        }
        self.flush().await;
        // A closed channel means the stream was dropped; its slot is already
        // draining.
        let _ = tx.send(event).await;
    }

    /// Sends the batch (before the loop waits for the router, so no row
    /// waits on the network).
    async fn flush(&mut self) {
        if let Some((tx, rows)) = self.pending.take() {
            let _ = tx.send(Event::Rows(rows)).await;
        }
    }
}

async fn write_loop(
    shared: Arc<Shared>,
    mut wr: WriteHalf<BoxedTransport>,
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    while let Some(mut buf) = rx.recv().await {
        // Batch whatever else is queued into the same write.
        while let Ok(more) = rx.try_recv() {
            buf.extend_from_slice(&more);
        }
        if let Err(e) = wr.write_all(&buf).await {
            shared.fail(Error::io(e));
            return;
        }
        shared
            .counters
            .bytes_sent
            .fetch_add(buf.len() as u64, Ordering::Relaxed);
    }
    let _ = wr.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{ProtocolError, encode_sentence};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    #[test]
    fn an_idle_session_keeps_a_small_read_buffer_and_a_busy_one_reads_in_large_chunks() {
        let decoder = Decoder::new(crate::codec::SizeLimits::default());
        let mut buf = BytesMut::with_capacity(1 << 20);
        make_room(&mut buf, &decoder, true);
        assert!(buf.capacity() <= IDLE_READ_BUFFER, "{}", buf.capacity());
        make_room(&mut buf, &decoder, false);
        assert!(buf.capacity() - buf.len() >= BUSY_READ_CHUNK);
        // Idle but half a sentence buffered: never shrunk under the data.
        buf.extend_from_slice(b"\x05!done");
        make_room(&mut buf, &decoder, true);
        assert_eq!(&buf[..], b"\x05!done");
    }

    /// The router side of an in-memory connection, scripted by each test.
    struct FakeRouter {
        io: DuplexStream,
        buf: BytesMut,
        decoder: Decoder,
    }

    impl FakeRouter {
        async fn read(&mut self) -> Vec<String> {
            loop {
                if let Some(s) = self.decoder.decode(&mut self.buf).unwrap() {
                    return s
                        .words()
                        .map(|w| String::from_utf8_lossy(w).into_owned())
                        .collect();
                }
                let n = self.io.read_buf(&mut self.buf).await.unwrap();
                assert!(n > 0, "client closed");
            }
        }

        async fn send(&mut self, words: &[&str]) {
            let mut out = Vec::new();
            encode_sentence(words, &mut out).unwrap();
            self.io.write_all(&out).await.unwrap();
        }

        async fn send_raw(&mut self, bytes: &[u8]) {
            self.io.write_all(bytes).await.unwrap();
        }
    }

    fn tag_of(words: &[String]) -> String {
        words
            .iter()
            .find_map(|w| w.strip_prefix(".tag="))
            .unwrap()
            .to_string()
    }

    fn pair(options: SessionOptions) -> (Session, FakeRouter) {
        let (client, server) = tokio::io::duplex(1 << 16);
        let session = Session::start(Box::new(client), options, Arc::new(Counters::default()));
        let router = FakeRouter {
            io: server,
            buf: BytesMut::new(),
            decoder: Decoder::default(),
        };
        (session, router)
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[tokio::test]
    async fn rows_arriving_together_are_batched_per_command_and_keep_their_order() {
        let (session, mut router) = pair(SessionOptions::default());
        let mut a = session
            .command(&Command::new("/ip/firewall/filter/print"))
            .unwrap();
        let mut b = session
            .command(&Command::new("/ip/firewall/nat/print"))
            .unwrap();
        let ta = format!(".tag={}", tag_of(&router.read().await));
        let tb = format!(".tag={}", tag_of(&router.read().await));
        // One write: 150 rows of a (more than one batch), then b's rows and
        // a's end interleaved; each command sees exactly its own, in order.
        let mut out = Vec::new();
        for i in 0..150 {
            encode_sentence(["!re", &ta, &format!("=n={i}")], &mut out).unwrap();
        }
        encode_sentence(["!re", &tb, "=n=b0"], &mut out).unwrap();
        encode_sentence(["!done", &ta], &mut out).unwrap();
        encode_sentence(["!re", &tb, "=n=b1"], &mut out).unwrap();
        encode_sentence(["!done", &tb], &mut out).unwrap();
        router.send_raw(&out).await;
        for i in 0..150 {
            let row = a.next().await.unwrap().unwrap();
            assert_eq!(row.str("n"), Some(i.to_string().as_str()));
        }
        assert!(a.next().await.unwrap().is_none());
        assert!(a.next().await.unwrap().is_none(), "stays ended");
        assert_eq!(b.next().await.unwrap().unwrap().str("n"), Some("b0"));
        assert_eq!(b.next().await.unwrap().unwrap().str("n"), Some("b1"));
        assert!(b.next().await.unwrap().is_none());
        assert_eq!(session.in_flight(), 0);
    }

    #[tokio::test]
    async fn an_idle_session_gives_back_the_room_its_commands_took() {
        let (session, mut router) = pair(SessionOptions::default());
        let mut streams = Vec::new();
        for _ in 0..100 {
            streams.push(
                session
                    .command(&Command::new("/system/identity/print"))
                    .unwrap(),
            );
        }
        let mut out = Vec::new();
        for _ in 0..100 {
            let tag = format!(".tag={}", tag_of(&router.read().await));
            encode_sentence(["!done", &tag], &mut out).unwrap();
        }
        let capacity = || session.inner.shared.pending.lock().unwrap().capacity();
        assert!(capacity() >= 100);
        router.send_raw(&out).await;
        for stream in &mut streams {
            assert!(stream.next().await.unwrap().is_none());
        }
        for _ in 0..100 {
            if capacity() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(capacity(), 0);
    }

    #[tokio::test]
    async fn interleaved_replies_reach_their_own_commands() {
        let (session, mut router) = pair(SessionOptions::default());
        let mut a = session.command(&Command::new("/interface/print")).unwrap();
        let mut b = session
            .command(&Command::new("/system/identity/print"))
            .unwrap();
        let ta = tag_of(&router.read().await);
        let tb = tag_of(&router.read().await);
        let ta_word = format!(".tag={ta}");
        let tb_word = format!(".tag={tb}");
        router.send(&["!re", &tb_word, "=name=r1"]).await;
        router.send(&["!re", "=name=ether1", &ta_word]).await;
        router.send(&["!done", &tb_word]).await;
        router.send(&["!re", &ta_word, "=name=ether2"]).await;
        router.send(&["!done", &ta_word]).await;
        assert_eq!(b.next().await.unwrap().unwrap().str("name"), Some("r1"));
        assert!(b.next().await.unwrap().is_none());
        assert_eq!(a.next().await.unwrap().unwrap().str("name"), Some("ether1"));
        assert_eq!(a.next().await.unwrap().unwrap().str("name"), Some("ether2"));
        assert!(a.next().await.unwrap().is_none());
        assert_eq!(session.in_flight(), 0);
        assert!(session.is_reusable());
    }

    #[tokio::test]
    async fn traps_are_reported_after_rows_and_empty_is_ignored() {
        let (session, mut router) = pair(SessionOptions::default());
        let traps = tokio::spawn({
            let session = session.clone();
            async move { session.rows(&Command::new("/nope/print"), soon()).await }
        });
        let t = format!(".tag={}", tag_of(&router.read().await));
        router
            .send(&[
                "!trap",
                &t,
                "=category=0",
                "=message=no such command or directory (nope)",
            ])
            .await;
        router
            .send(&["!trap", "=message=no such command prefix", &t])
            .await;
        router.send(&["!done", &t]).await;
        let err = traps.await.unwrap().unwrap_err();
        match &err {
            Error::Trap {
                message,
                category,
                more,
            } => {
                assert_eq!(message, "no such command or directory (nope)");
                assert_eq!(*category, Some(0));
                assert_eq!(more, &vec!["no such command prefix".to_string()]);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.is_missing_menu());

        let empty = tokio::spawn({
            let session = session.clone();
            async move { session.rows(&Command::new("/x/print"), soon()).await }
        });
        let t = format!(".tag={}", tag_of(&router.read().await));
        router.send(&["!empty", &t]).await;
        router.send(&["!done", &t]).await;
        assert!(empty.await.unwrap().unwrap().is_empty());
        assert!(session.is_reusable());
    }

    /// One `count` against the fake router answering with `replies` (each a
    /// sentence, tagged by this helper).
    async fn count_answered_with(replies: &[&[&str]]) -> Result<u64> {
        let (session, mut router) = pair(SessionOptions::default());
        let count = tokio::spawn({
            let session = session.clone();
            async move {
                session
                    .count(&Command::new("/ipv6/firewall/connection/print"), soon())
                    .await
            }
        });
        let request = router.read().await;
        assert!(request.contains(&"=count-only=".to_string()), "{request:?}");
        let t = format!(".tag={}", tag_of(&request));
        for reply in replies {
            let mut words = reply.to_vec();
            words.push(&t);
            router.send(&words).await;
        }
        count.await.unwrap()
    }

    #[tokio::test]
    async fn count_reads_ret_and_empty_without_ret_is_zero() {
        assert_eq!(
            count_answered_with(&[&["!done", "=ret=42"]]).await.unwrap(),
            42
        );
        // RouterOS 7.18+ on an empty table.
        assert_eq!(
            count_answered_with(&[&["!empty"], &["!done"]])
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            count_answered_with(&[&["!empty"], &["!done", "=ret=0"]])
                .await
                .unwrap(),
            0
        );
        for odd in [&[&["!done"][..]][..], &[&["!done", "=ret=many"]]] {
            let err = count_answered_with(odd).await.unwrap_err();
            assert!(matches!(err, Error::UnknownReply(_)), "{odd:?}: {err:?}");
        }
        let err = count_answered_with(&[&["!trap", "=message=no such command prefix"], &["!done"]])
            .await
            .unwrap_err();
        assert!(err.is_missing_menu(), "{err:?}");
    }

    #[tokio::test]
    async fn answered_since_waits_for_a_reply_after_the_instant() {
        let (session, mut router) = pair(SessionOptions::default());
        let since = Instant::now();
        let waiter = tokio::spawn({
            let session = session.clone();
            async move { session.answered_since(since, soon()).await }
        });
        let stream = session
            .command(&Command::new("/system/identity/print"))
            .unwrap();
        let t = format!(".tag={}", tag_of(&router.read().await));
        router.send(&["!done", &t]).await;
        assert!(waiter.await.unwrap());
        stream.finish().await.unwrap();
        // Nothing arrived after `later`: false once `until` passes.
        let later = Instant::now() + Duration::from_millis(1);
        tokio::time::sleep(Duration::from_millis(2)).await;
        let until = Instant::now() + Duration::from_millis(20);
        assert!(!session.answered_since(later, until).await);
        // A failed session answers false without waiting for `until`.
        drop(router);
        assert!(
            !session
                .answered_since(later, soon() + Duration::from_secs(3600))
                .await
        );
    }

    #[tokio::test]
    async fn dropped_command_is_cancelled_and_drained() {
        let (session, mut router) = pair(SessionOptions::default());
        let stream = session
            .command(&Command::new("/interface/monitor-traffic"))
            .unwrap();
        let tag = tag_of(&router.read().await);
        drop(stream);
        let cancel = router.read().await;
        assert_eq!(cancel[0], "/cancel");
        assert!(cancel.contains(&format!("=tag={tag}")));
        assert_eq!(session.draining(), 2);
        assert!(!session.is_reusable());
        let t = format!(".tag={tag}");
        let ct = format!(".tag={}", tag_of(&cancel));
        router
            .send(&["!trap", &t, "=category=2", "=message=interrupted"])
            .await;
        router.send(&["!done", &ct]).await;
        router.send(&["!done", &t]).await;
        assert!(session.wait_drained(soon()).await);
        assert!(session.is_reusable());
    }

    #[tokio::test]
    async fn fatal_fails_every_command_and_the_session() {
        let (session, mut router) = pair(SessionOptions::default());
        let mut a = session.command(&Command::new("/a/print")).unwrap();
        let mut b = session.command(&Command::new("/b/print")).unwrap();
        router.read().await;
        router.read().await;
        router
            .send(&["!fatal", "session terminated on request"])
            .await;
        for stream in [&mut a, &mut b] {
            match stream.next().await {
                Err(Error::Fatal(reason)) => assert_eq!(reason, "session terminated on request"),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(!session.is_healthy());
        assert!(matches!(
            session.command(&Command::new("/c/print")),
            Err(Error::SessionFailed(_))
        ));
    }

    #[tokio::test]
    async fn unknown_reply_word_fails_only_its_command() {
        let (session, mut router) = pair(SessionOptions::default());
        let cmd = tokio::spawn({
            let session = session.clone();
            async move { session.rows(&Command::new("/a/print"), soon()).await }
        });
        let t = format!(".tag={}", tag_of(&router.read().await));
        router.send(&["!future", &t]).await;
        router.send(&["!done", &t]).await;
        assert!(matches!(
            cmd.await.unwrap(),
            Err(Error::UnknownReply(w)) if w == "!future"
        ));
        assert!(session.is_reusable());
    }

    #[tokio::test]
    async fn a_login_answered_with_rows_or_an_unknown_word_fails_at_once() {
        for reply in ["!re", "!future"] {
            let (session, mut router) = pair(SessionOptions::default());
            let login = tokio::spawn({
                let session = session.clone();
                // Far beyond the test's own run time: only the reply can end it.
                let deadline = Instant::now() + Duration::from_secs(3600);
                async move { session.done_only(&Command::new("/login"), deadline).await }
            });
            let t = format!(".tag={}", tag_of(&router.read().await));
            router.send(&[reply, &t, "=name=x"]).await;
            match login.await.unwrap() {
                Err(Error::Protocol(ProtocolError::UnexpectedReply { word, command })) => {
                    assert_eq!((word.as_str(), command.as_str()), (reply, "/login"));
                }
                other => panic!("{reply}: expected a protocol error, got {other:?}"),
            }
            assert!(!session.is_healthy(), "{reply}");
        }
        // `!empty` is harmless and a trap still ends with its `!done`.
        let (session, mut router) = pair(SessionOptions::default());
        let login = tokio::spawn({
            let session = session.clone();
            async move { session.done_only(&Command::new("/login"), soon()).await }
        });
        let t = format!(".tag={}", tag_of(&router.read().await));
        router.send(&["!empty", &t]).await;
        router.send(&["!trap", &t, "=message=bad"]).await;
        router.send(&["!done", &t]).await;
        assert!(matches!(login.await.unwrap(), Err(Error::Trap { .. })));
        assert!(session.is_reusable());
    }

    #[tokio::test]
    async fn garbage_and_stray_replies_fail_the_session() {
        let (session, mut router) = pair(SessionOptions::default());
        let mut a = session.command(&Command::new("/a/print")).unwrap();
        router.read().await;
        router.send_raw(&[0xF8, 0xFF, 0x00]).await;
        assert!(matches!(
            a.next().await,
            Err(Error::Protocol(ProtocolError::ReservedControlByte(0xF8)))
        ));
        assert!(!session.is_healthy());

        let (session, mut router) = pair(SessionOptions::default());
        let mut a = session.command(&Command::new("/a/print")).unwrap();
        router.read().await;
        router.send(&["!done", ".tag=999"]).await;
        assert!(matches!(a.next().await, Err(Error::UnknownReply(_))));
        assert!(!session.is_healthy());
    }

    #[tokio::test]
    async fn reply_over_the_size_limit_fails_the_command_and_cancels_it() {
        let options = SessionOptions {
            max_reply_bytes: 100,
            ..SessionOptions::default()
        };
        let (session, mut router) = pair(options);
        let mut a = session.command(&Command::new("/big/print")).unwrap();
        let t = format!(".tag={}", tag_of(&router.read().await));
        let big = format!("=data={}", "x".repeat(200));
        router.send(&["!re", &t, &big]).await;
        assert!(matches!(a.next().await, Err(Error::ReplyTooLarge(100))));
        let cancel = router.read().await;
        assert_eq!(cancel[0], "/cancel");
        assert!(session.is_healthy());
    }

    /// The router's end sees our close (a read of 0 bytes) once the session
    /// failed, while the session itself is still held.
    async fn assert_closed_by_client(router: &mut FakeRouter) {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(10), router.io.read(&mut byte)).await;
        assert!(matches!(read, Ok(Ok(0))), "transport still open: {read:?}");
    }

    #[tokio::test]
    async fn a_failed_session_releases_its_transport_at_once() {
        // The router closes its side: our reader sees EOF.
        let (session, mut router) = pair(SessionOptions::default());
        router.io.shutdown().await.unwrap();
        assert_closed_by_client(&mut router).await;
        assert!(matches!(session.failure(), Some(Error::Eof)));
        // We give up on the session (a validation timeout).
        let (session, mut router) = pair(SessionOptions::default());
        session.poison(Error::Timeout(Duration::from_secs(1), "validation"));
        assert_closed_by_client(&mut router).await;
        drop(session);
    }

    #[tokio::test]
    async fn eof_fails_in_flight_commands() {
        let (session, mut router) = pair(SessionOptions::default());
        let mut a = session.command(&Command::new("/a/print")).unwrap();
        router.read().await;
        drop(router);
        assert!(matches!(a.next().await, Err(Error::Eof)));
        assert!(!session.is_healthy());
    }
}
