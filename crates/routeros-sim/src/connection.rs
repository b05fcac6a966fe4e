//! One API session: the reader loop (login, `/cancel`, `/quit`, dispatch), the
//! per-command tasks and the coalescing writer.

use crate::commands::{self, CommandContext};
use crate::faults::{Faults, StatsCounters};
use crate::login;
use crate::personality::BareLogin;
use crate::router::RouterShared;
use crate::wire::ReplyEncoder;
use bytes::BytesMut;
use routeros::codec::{Decoder, Sentence, encode_sentence};
use routeros::reply::attribute;
use routeros::text::lossy;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Messages queued per connection before command tasks wait for the writer.
const QUEUE_DEPTH: usize = 64;
/// The writer merges queued messages into one write up to this size.
const COALESCE_BYTES: usize = 1 << 20;
/// Read buffer growth step.
const READ_CHUNK: usize = 16 << 10;

/// The `!fatal` reason for `/quit`.
pub(crate) const QUIT_REASON: &str = "session terminated on request";
/// The `!fatal` reason for a command before login.
pub(crate) const NOT_LOGGED_IN: &str = "not logged in";

/// Bytes for the writer; `Close` shuts the connection down after writing.
pub(crate) enum Outgoing {
    /// Write these bytes.
    Bytes(Vec<u8>),
    /// Write these bytes, then close the connection.
    Close(Vec<u8>),
}

/// How a new connection is treated.
pub(crate) enum Admission {
    /// A normal session.
    Session,
    /// Over the session limit: the first sentence gets `!fatal <reason>`.
    FatalOnFirstSentence(String),
}

/// Encodes `!fatal <reason>` (bare word, never tagged).
pub(crate) fn fatal_sentence(reason: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(reason.len() + 10);
    // Only fails for words over 4 GiB; an empty reason is still a valid `!fatal`.
    if encode_sentence(["!fatal", reason], &mut out).is_err() {
        out.clear();
        out.extend_from_slice(b"\x06!fatal\x00");
    }
    out
}

/// The `.tag` value of a request, if non-empty.
pub(crate) fn tag_of(sentence: &Sentence) -> Option<&[u8]> {
    sentence
        .words()
        .skip(1)
        .find_map(|w| w.strip_prefix(b".tag="))
        .filter(|t| !t.is_empty())
}

struct RunningCommand {
    tag: Option<Vec<u8>>,
    claimed: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

type Running = Arc<Mutex<HashMap<u64, RunningCommand>>>;

/// What the reader loop does next.
enum Flow {
    /// Keep reading.
    Continue,
    /// A closing sentence was queued: wait for the writer to send it, then stop.
    Close,
    /// Stop at once.
    Abort,
}

struct Session {
    router: Arc<RouterShared>,
    tx: mpsc::Sender<Outgoing>,
    running: Running,
    next_id: u64,
    logged_in: bool,
    challenge: Option<[u8; 16]>,
    admission: Admission,
}

/// Serves one connection until the client leaves, a `!fatal` is sent, or the
/// router reboots / shuts down.
pub(crate) async fn serve<S>(router: Arc<RouterShared>, stream: S, admission: Admission)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut reader, writer) = tokio::io::split(stream);
    let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
    let mut writer_task = tokio::spawn(write_loop(router.clone(), writer, rx));
    let mut writer_done = false;
    let mut closer = router.closer();
    let mut session = Session {
        router,
        tx,
        running: Arc::new(Mutex::new(HashMap::new())),
        next_id: 0,
        logged_in: false,
        challenge: None,
        admission,
    };
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut decoder = Decoder::default();
    let mut client_closed = false;
    loop {
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
        tokio::select! {
            _ = closer.changed() => break,
            _ = &mut writer_task => {
                writer_done = true;
                break;
            }
            read = reader.read_buf(&mut buf) => {
                let n = match read {
                    Ok(0) => {
                        client_closed = true;
                        break;
                    }
                    Ok(n) => n,
                    Err(_) => break,
                };
                StatsCounters::add(&session.router.stats.bytes_received, n);
                // Handling can wait on a slow client; a reboot must still win.
                let flow = tokio::select! {
                    _ = closer.changed() => break,
                    flow = session.handle_buffered(&mut decoder, &mut buf) => flow,
                };
                match flow {
                    Flow::Continue => {}
                    Flow::Close => {
                        tokio::select! {
                            _ = closer.changed() => {}
                            _ = &mut writer_task => writer_done = true,
                        }
                        break;
                    }
                    Flow::Abort => break,
                }
            }
        }
    }
    let running = session.running.clone();
    if client_closed && !writer_done {
        // A half-closed client still gets the replies of what it sent: the
        // writer ends once the running commands are done with their senders.
        drop(session);
        tokio::select! {
            _ = closer.changed() => {}
            _ = &mut writer_task => writer_done = true,
        }
    }
    abort_all(&running);
    if !writer_done {
        writer_task.abort();
    }
}

impl Session {
    /// Handles every complete sentence in `buf`.
    async fn handle_buffered(&mut self, decoder: &mut Decoder, buf: &mut BytesMut) -> Flow {
        // The decoder splits each sentence off the front of `buf`, so a capture
        // copies the buffer first and keeps the prefix each decode consumed.
        let raw = self.router.capture.is_on().then(|| buf.to_vec());
        loop {
            let before = buf.len();
            match decoder.decode(buf) {
                Ok(Some(sentence)) => {
                    if let Some(raw) = &raw {
                        let start = raw.len() - before;
                        let end = start + (before - buf.len());
                        self.router.capture.record(&raw[start..end]);
                    }
                    match self.handle(sentence).await {
                        Flow::Continue => {}
                        stop => return stop,
                    }
                }
                Ok(None) => return Flow::Continue,
                Err(e) => {
                    tracing::debug!(router = %self.router.config.name, "protocol error from client: {e}");
                    return Flow::Abort;
                }
            }
        }
    }

    async fn handle(&mut self, sentence: Sentence) -> Flow {
        let Some(first) = sentence.word(0) else {
            return Flow::Continue;
        };
        let command = lossy(first).into_owned();
        self.router.stats.count_command(&command);
        if let Admission::FatalOnFirstSentence(reason) = &self.admission {
            let fatal = fatal_sentence(reason);
            return self.send_and_close(fatal).await;
        }
        let faults = self.router.faults();
        if command == "/login" {
            return self.login(&sentence, &faults).await;
        }
        if !self.logged_in {
            return self.send_and_close(fatal_sentence(NOT_LOGGED_IN)).await;
        }
        if faults.hang {
            return Flow::Continue;
        }
        match command.as_str() {
            "/quit" => self.send_and_close(fatal_sentence(QUIT_REASON)).await,
            "/cancel" => self.cancel(&sentence).await,
            _ => {
                self.spawn_command(sentence, faults);
                Flow::Continue
            }
        }
    }

    fn encoder(&self, tag: Option<&[u8]>) -> ReplyEncoder {
        ReplyEncoder::new(tag, self.router.config.tag_position)
    }

    async fn send(&self, bytes: Vec<u8>) -> Flow {
        match self.tx.send(Outgoing::Bytes(bytes)).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Abort,
        }
    }

    async fn send_and_close(&self, bytes: Vec<u8>) -> Flow {
        // If the writer is already gone the connection closes either way.
        let _ = self.tx.send(Outgoing::Close(bytes)).await;
        Flow::Close
    }

    async fn login(&mut self, sentence: &Sentence, faults: &Faults) -> Flow {
        if faults.hang_login {
            return Flow::Continue;
        }
        let encoder = self.encoder(tag_of(sentence));
        let mut out = Vec::new();
        if let Some(word) = &faults.login_unknown_reply {
            return match encoder.sentence(&mut out, word, &[("message", b"?")]) {
                Ok(()) => self.send(out).await,
                Err(_) => Flow::Abort,
            };
        }
        if faults.login_re_flood {
            tokio::spawn(flood_rows(self.tx.clone(), encoder));
            return Flow::Continue;
        }
        if self.logged_in {
            return match encoder.sentence(&mut out, "!done", &[]) {
                Ok(()) => self.send(out).await,
                Err(_) => Flow::Abort,
            };
        }
        let config = &self.router.config;
        let personality = &config.personality;
        let name_ok = attribute(sentence, "name") == Some(config.username.as_bytes());
        let accepted = if let Some(response) = attribute(sentence, "response") {
            match self.challenge.take() {
                Some(challenge) => {
                    personality.accepts_challenge_response()
                        && name_ok
                        && login::response_matches(config.password.as_bytes(), &challenge, response)
                }
                None => false,
            }
        } else if personality.legacy_login() {
            // Before 6.43 the first `/login` gets the challenge, whatever it carries.
            return self.bare_login(&encoder, BareLogin::Challenge).await;
        } else if attribute(sentence, "name").is_none() {
            return self.bare_login(&encoder, personality.bare_login).await;
        } else {
            let password = attribute(sentence, "password").unwrap_or_default();
            name_ok && password == config.password.as_bytes()
        };
        let accepted = accepted && !faults.auth_failure;
        let encoded = if accepted {
            self.logged_in = true;
            StatsCounters::bump(&self.router.stats.logins_ok);
            encoder.sentence(&mut out, "!done", &[])
        } else {
            StatsCounters::bump(&self.router.stats.logins_failed);
            encoder
                .trap(&mut out, None, login::INVALID_CREDENTIALS)
                .and_then(|()| encoder.sentence(&mut out, "!done", &[]))
        };
        match encoded {
            Ok(()) => self.send(out).await,
            Err(_) => Flow::Abort,
        }
    }

    /// A `/login` without a user name: the challenge (6.x, and the first
    /// `/login` of any kind before 6.43), or whatever the personality says for
    /// 7.x. No credentials were checked, so no login is counted either way.
    async fn bare_login(&mut self, encoder: &ReplyEncoder, kind: BareLogin) -> Flow {
        let mut out = Vec::new();
        let encoded = match kind {
            BareLogin::Challenge => {
                let challenge = login::new_challenge();
                self.challenge = Some(challenge);
                let ret = hex::encode(challenge);
                encoder.sentence(&mut out, "!done", &[("ret", ret.as_bytes())])
            }
            BareLogin::Trap => encoder
                .trap(&mut out, None, login::INVALID_CREDENTIALS)
                .and_then(|()| encoder.sentence(&mut out, "!done", &[])),
            BareLogin::Fatal => {
                return self
                    .send_and_close(fatal_sentence(login::INVALID_CREDENTIALS))
                    .await;
            }
        };
        match encoded {
            Ok(()) => self.send(out).await,
            Err(_) => Flow::Abort,
        }
    }

    fn spawn_command(&mut self, sentence: Sentence, faults: Arc<Faults>) {
        let id = self.next_id;
        self.next_id += 1;
        let tag = tag_of(&sentence).map(<[u8]>::to_vec);
        let claimed = Arc::new(AtomicBool::new(false));
        let context = CommandContext {
            router: self.router.clone(),
            tx: self.tx.clone(),
            encoder: self.encoder(tag.as_deref()),
            claimed: claimed.clone(),
            faults,
        };
        let running = self.running.clone();
        let handle = tokio::spawn(async move {
            let claimed = context.claimed.clone();
            commands::run(context, sentence).await;
            claimed.store(true, Ordering::SeqCst);
            lock_running(&running).remove(&id);
        });
        let mut running = lock_running(&self.running);
        running.retain(|_, command| !command.handle.is_finished());
        running.insert(
            id,
            RunningCommand {
                tag,
                claimed,
                handle,
            },
        );
    }

    async fn cancel(&mut self, sentence: &Sentence) -> Flow {
        StatsCounters::bump(&self.router.stats.cancels);
        let own = self.encoder(tag_of(sentence));
        let target = attribute(sentence, "tag");
        let victims: Vec<RunningCommand> = {
            let mut running = lock_running(&self.running);
            let ids: Vec<u64> = running
                .iter()
                .filter(|(_, c)| target.is_none() || c.tag.as_deref() == target)
                .map(|(&id, _)| id)
                .collect();
            ids.iter().filter_map(|id| running.remove(id)).collect()
        };
        let mut cancelled = Vec::new();
        for victim in victims {
            if !victim.claimed.swap(true, Ordering::SeqCst) {
                victim.handle.abort();
                // Wait until the task is gone so none of its sentences follow the trap.
                let _ = victim.handle.await;
                cancelled.push(self.encoder(victim.tag.as_deref()));
            }
        }
        let mut out = Vec::new();
        let encoded = cancelled
            .iter()
            .try_for_each(|e| e.trap(&mut out, Some(2), "interrupted"))
            .and_then(|()| own.sentence(&mut out, "!done", &[]))
            .and_then(|()| {
                cancelled
                    .iter()
                    .try_for_each(|e| e.sentence(&mut out, "!done", &[]))
            });
        match encoded {
            Ok(()) => self.send(out).await,
            Err(_) => Flow::Abort,
        }
    }
}

/// The `login_re_flood` fault: `!re` sentences until the connection's writer
/// is gone (the client closed, or the router rebooted).
async fn flood_rows(tx: mpsc::Sender<Outgoing>, encoder: ReplyEncoder) {
    let mut row = Vec::new();
    if encoder
        .sentence(&mut row, "!re", &[("name", b"flood")])
        .is_err()
    {
        return;
    }
    let batch = row.repeat(64);
    while tx.send(Outgoing::Bytes(batch.clone())).await.is_ok() {}
}

fn abort_all(running: &Running) {
    for (_, command) in lock_running(running).drain() {
        command.handle.abort();
    }
}

fn lock_running(running: &Running) -> std::sync::MutexGuard<'_, HashMap<u64, RunningCommand>> {
    running.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn write_loop<W>(router: Arc<RouterShared>, mut writer: W, mut rx: mpsc::Receiver<Outgoing>)
where
    W: AsyncWrite + Unpin,
{
    while let Some(first) = rx.recv().await {
        let (mut buf, mut close) = match first {
            Outgoing::Bytes(b) => (b, false),
            Outgoing::Close(b) => (b, true),
        };
        while !close && buf.len() < COALESCE_BYTES {
            match rx.try_recv() {
                Ok(Outgoing::Bytes(b)) => buf.extend_from_slice(&b),
                Ok(Outgoing::Close(b)) => {
                    buf.extend_from_slice(&b);
                    close = true;
                }
                Err(_) => break,
            }
        }
        if write_with_faults(&router, &mut writer, &buf).await.is_err() {
            break;
        }
        if close {
            let _ = writer.shutdown().await;
            break;
        }
    }
}

async fn write_with_faults<W>(
    router: &RouterShared,
    writer: &mut W,
    buf: &[u8],
) -> std::io::Result<()>
where
    W: AsyncWrite + Unpin,
{
    let faults = router.faults();
    if faults.drip_chunk_bytes == 0 {
        writer.write_all(buf).await?;
        writer.flush().await?;
        StatsCounters::add(&router.stats.bytes_sent, buf.len());
        return Ok(());
    }
    let delay = Duration::from_millis(faults.drip_delay_ms);
    for (i, chunk) in buf.chunks(faults.drip_chunk_bytes).enumerate() {
        if i > 0 && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        writer.write_all(chunk).await?;
        writer.flush().await?;
        StatsCounters::add(&router.stats.bytes_sent, chunk.len());
    }
    Ok(())
}
