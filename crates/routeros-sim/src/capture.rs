//! Capture of the request sentences a router receives, as raw wire bytes.
//!
//! The benchmarks replay exactly what a probe sent (same words, same `.tag`s,
//! same length prefixes) on a raw session to measure the floor a client can
//! reach; a re-encoding of decoded words could differ from what the client
//! wrote, so the capture keeps the bytes the decoder consumed.
//!
//! Off by default, and then it costs one atomic load per read. While on, every
//! complete sentence of every connection of the router is appended in the order
//! the reader loops decoded them (sentences of one connection never interleave
//! with another's). The capture keeps what the wire carried, `/login` passwords
//! included: it is a test tool for simulated routers.

use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Bytes a capture keeps at most; the sentence that would pass it and all
/// later ones are dropped and the capture marked truncated, so a capture left on cannot grow without bound.
pub const MAX_CAPTURE_BYTES: usize = 64 << 20;

/// What a router captured since the capture started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Captured {
    /// The request sentences, raw wire bytes in arrival order.
    pub bytes: Vec<u8>,
    /// Sentences were dropped because the capture reached [`MAX_CAPTURE_BYTES`].
    pub truncated: bool,
}

/// The capture state of one router.
#[derive(Debug, Default)]
pub(crate) struct Capture {
    on: AtomicBool,
    captured: Mutex<Captured>,
}

impl Capture {
    fn lock(&self) -> MutexGuard<'_, Captured> {
        self.captured.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether sentences are being captured (the cheap check of the hot path).
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Forgets what was captured and starts capturing.
    pub fn start(&self) {
        *self.lock() = Captured::default();
        self.on.store(true, Ordering::SeqCst);
    }

    /// Stops capturing and hands over what was captured.
    pub fn stop(&self) -> Captured {
        self.on.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.lock())
    }

    /// A copy of what was captured so far (capturing goes on).
    pub fn snapshot(&self) -> Captured {
        self.lock().clone()
    }

    /// Appends one sentence's wire bytes, unless capturing is off (it may have
    /// stopped since the caller checked) or the capture is full.
    pub fn record(&self, sentence: &[u8]) {
        let mut captured = self.lock();
        if !self.is_on() {
            return;
        }
        // Once a sentence is dropped, so are all later ones: a capture is always
        // a prefix of what arrived.
        if captured.truncated || captured.bytes.len() + sentence.len() > MAX_CAPTURE_BYTES {
            captured.truncated = true;
        } else {
            captured.bytes.extend_from_slice(sentence);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_while_on_and_start_clears() {
        let c = Capture::default();
        c.record(b"before");
        assert!(c.snapshot().bytes.is_empty());
        c.start();
        c.record(b"one");
        c.record(b"two");
        assert_eq!(c.snapshot().bytes, b"onetwo");
        c.start();
        c.record(b"three");
        let stopped = c.stop();
        assert_eq!(stopped.bytes, b"three");
        assert!(!stopped.truncated);
        c.record(b"after");
        assert!(c.snapshot().bytes.is_empty());
    }

    #[test]
    fn a_full_capture_keeps_a_prefix_of_whole_sentences_and_says_so() {
        let c = Capture::default();
        c.start();
        c.record(&vec![1; MAX_CAPTURE_BYTES - 3]);
        c.record(b"ab");
        c.record(b"cd");
        c.record(b"e");
        let captured = c.stop();
        assert_eq!(captured.bytes.len(), MAX_CAPTURE_BYTES - 1);
        assert!(captured.bytes.ends_with(b"ab"));
        assert!(captured.truncated);
    }
}
