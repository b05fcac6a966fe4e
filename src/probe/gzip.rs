//! A gzip member written by a deflate stream reused across probes.
//!
//! Setting up a deflate stream allocates and clears about 300 KiB of window
//! and hash tables: on a default router's 60 KB exposition that set-up cost
//! as much as compressing it. Each thread keeps one stream and resets it, so
//! a probe pays only for its own bytes. Level 1: Prometheus' own scrape path
//! favours speed over ratio too (a large router's 10 MB exposition compresses
//! to about a sixth).

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use std::cell::RefCell;

thread_local! {
    static STREAM: RefCell<Option<Compress>> = const { RefCell::new(None) };
}

/// The fixed gzip header: deflate, no name or time, unknown OS (RFC 1952).
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// Compresses text fed in pieces into one gzip member.
pub struct GzipWriter {
    /// Always `Some` until dropped, when it goes back to the thread.
    stream: Option<Compress>,
    crc: Crc,
    out: Vec<u8>,
}

impl GzipWriter {
    /// A writer whose output starts with room for `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        let stream = STREAM
            .with(|cell| cell.borrow_mut().take())
            .map(|mut stream| {
                stream.reset();
                stream
            })
            .unwrap_or_else(|| Compress::new(Compression::fast(), false));
        let mut out = Vec::with_capacity(capacity.max(HEADER.len() + 8));
        out.extend_from_slice(&HEADER);
        Self {
            stream: Some(stream),
            crc: Crc::new(),
            out,
        }
    }

    /// Compresses `input`.
    pub fn write(&mut self, input: &[u8]) {
        self.crc.update(input);
        self.deflate(input, FlushCompress::None);
    }

    /// Ends the member (deflate's last block, CRC-32 and length) and returns
    /// the gzip bytes; the stream goes back to the thread for the next probe.
    pub fn finish(mut self) -> Vec<u8> {
        self.deflate(&[], FlushCompress::Finish);
        let mut out = std::mem::take(&mut self.out);
        out.extend_from_slice(&self.crc.sum().to_le_bytes());
        out.extend_from_slice(&self.crc.amount().to_le_bytes());
        out
    }

    fn deflate(&mut self, mut input: &[u8], flush: FlushCompress) {
        let Some(stream) = self.stream.as_mut() else {
            return;
        };
        loop {
            if self.out.capacity() - self.out.len() < 16 * 1024 {
                self.out.reserve(64 * 1024);
            }
            let before = stream.total_in();
            // Compressing into a Vec cannot fail: the only errors are a
            // corrupt stream state, which reset() rules out.
            let status = stream
                .compress_vec(input, &mut self.out, flush)
                .unwrap_or(Status::StreamEnd);
            let consumed = usize::try_from(stream.total_in() - before).unwrap_or(input.len());
            input = &input[consumed.min(input.len())..];
            let done = match flush {
                FlushCompress::Finish => status == Status::StreamEnd,
                _ => input.is_empty(),
            };
            if done {
                return;
            }
        }
    }
}

impl Drop for GzipWriter {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            STREAM.with(|cell| *cell.borrow_mut() = Some(stream));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .expect("valid gzip");
        out
    }

    #[test]
    fn pieces_make_one_valid_member_and_the_stream_is_reused_clean() {
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("m{{k=\"{i}\"}} {}\n", i % 7).into_bytes())
            .collect();
        for _ in 0..3 {
            let mut gz = GzipWriter::new(0);
            for piece in text.chunks(65_536) {
                gz.write(piece);
            }
            let bytes = gz.finish();
            assert_eq!(gunzip(&bytes), text);
            assert!(bytes.len() < text.len() / 3, "{}", bytes.len());
        }
        assert_eq!(gunzip(&GzipWriter::new(0).finish()), b"");
    }
}
