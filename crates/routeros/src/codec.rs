//! The RouterOS API wire codec: length-prefixed words grouped into sentences.
//!
//! A *word* is a length prefix followed by that many raw bytes; a *sentence* is a
//! list of words closed by the zero-length word (a single `0x00`). There is no other
//! framing, so everything about robustness lives here:
//!
//! * The length prefix is 1–5 bytes (see [`encode_length`]); a first byte `>= 0xF8`
//!   is a reserved control byte, which the protocol says a client cannot continue
//!   past — we return [`ProtocolError::ReservedControlByte`] instead of guessing.
//! * TCP hands us arbitrary fragments, so [`Decoder`] is incremental: it remembers how
//!   far it parsed the current sentence and never rescans.
//! * A peer can announce a 4 GiB word in five bytes. Limits are checked when the
//!   prefix is parsed, *before* any buffer grows towards the announced size.
//! * Words are bytes. Nothing here assumes UTF-8 (RouterOS stores whatever code page
//!   the admin typed in); see [`crate::text`] for label conversion.

use bytes::{Bytes, BytesMut};

/// Default largest word accepted from a peer (16 MiB: a v7 `/execute as-string`
/// export can legitimately return a multi-megabyte `=ret=`).
pub const DEFAULT_MAX_WORD_LEN: usize = 16 << 20;

/// Default largest sentence accepted from a peer (32 MiB).
pub const DEFAULT_MAX_SENTENCE_LEN: usize = 32 << 20;

/// The largest word length the 5-byte form can carry (the API only supports 4
/// length bytes after `0xF0`).
pub const MAX_ENCODABLE_LEN: usize = u32::MAX as usize;

/// A violation of the wire protocol by the peer (or by a caller asking us to encode
/// something unencodable). Every variant is a clean error, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The first byte of a length prefix was `>= 0xF8`, a reserved control byte.
    #[error("reserved control byte 0x{0:02x} in word length prefix")]
    ReservedControlByte(u8),
    /// The peer announced a word longer than the configured limit.
    #[error("peer announced a {announced}-byte word, over the {limit}-byte limit")]
    WordTooLarge {
        /// Length announced by the prefix.
        announced: u64,
        /// The configured limit.
        limit: usize,
    },
    /// The sentence being received grew past the configured limit.
    #[error("sentence of at least {size} bytes exceeds the {limit}-byte limit")]
    SentenceTooLarge {
        /// Bytes the sentence would occupy at least.
        size: u64,
        /// The configured limit.
        limit: usize,
    },
    /// A word to encode is longer than the protocol can express.
    #[error("word of {0} bytes is too long to encode")]
    Unencodable(usize),
    /// A sentence that should be a reply does not start with `!`.
    #[error("expected a reply word starting with '!', got {0:?}")]
    NotAReply(String),
    /// A reply sentence with no words at all.
    #[error("empty reply sentence")]
    EmptyReply,
    /// A reply the command cannot get: `!re` rows or an unknown reply word in
    /// answer to `/login`, which only ever gets `!trap`s and `!done`.
    #[error("unexpected {word} in reply to {command}")]
    UnexpectedReply {
        /// The reply word received (`!re`, `!future`).
        word: String,
        /// The command it answered (`/login`).
        command: String,
    },
}

/// Size limits applied while decoding what a peer sends: a word or sentence
/// larger than these is a protocol error before any buffer grows for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeLimits {
    /// Largest single word accepted, in bytes.
    pub max_word_len: usize,
    /// Largest sentence accepted (sum of prefixes and words), in bytes.
    pub max_sentence_len: usize,
}

impl Default for SizeLimits {
    fn default() -> Self {
        Self {
            max_word_len: DEFAULT_MAX_WORD_LEN,
            max_sentence_len: DEFAULT_MAX_SENTENCE_LEN,
        }
    }
}

/// Appends the length prefix for a word of `len` bytes.
///
/// | length            | prefix                     |
/// |-------------------|----------------------------|
/// | `< 0x80`          | 1 byte `len`               |
/// | `< 0x4000`        | 2 bytes `len \| 0x8000`     |
/// | `< 0x20_0000`     | 3 bytes `len \| 0xC0_0000`  |
/// | `< 0x1000_0000`   | 4 bytes `len \| 0xE000_0000`|
/// | otherwise         | `0xF0` + 4 bytes `len`     |
pub fn encode_length(len: usize, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
    let n = u32::try_from(len).map_err(|_| ProtocolError::Unencodable(len))?;
    match n {
        0..0x80 => out.push(n as u8),
        0x80..0x4000 => out.extend_from_slice(&((n | 0x8000) as u16).to_be_bytes()),
        0x4000..0x20_0000 => out.extend_from_slice(&(n | 0xC0_0000).to_be_bytes()[1..]),
        0x20_0000..0x1000_0000 => out.extend_from_slice(&(n | 0xE000_0000).to_be_bytes()),
        _ => {
            out.push(0xF0);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
    Ok(())
}

/// Number of bytes [`encode_length`] emits for a word of `len` bytes.
pub fn length_prefix_size(len: usize) -> usize {
    match len {
        0..0x80 => 1,
        0x80..0x4000 => 2,
        0x4000..0x20_0000 => 3,
        0x20_0000..0x1000_0000 => 4,
        _ => 5,
    }
}

/// Parses a length prefix at the start of `buf`.
///
/// Returns `Ok(None)` when `buf` holds only part of the prefix, otherwise the
/// announced length and the prefix size. The 5-byte form folds the low three bits of
/// the first byte in (as PEAR2 does), so a malformed `0xF1..0xF7` simply announces an
/// enormous word that the limit check rejects.
pub fn decode_length(buf: &[u8]) -> Result<Option<(u64, usize)>, ProtocolError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let size = match first {
        0x00..0x80 => 1,
        0x80..0xC0 => 2,
        0xC0..0xE0 => 3,
        0xE0..0xF0 => 4,
        0xF0..0xF8 => 5,
        _ => return Err(ProtocolError::ReservedControlByte(first)),
    };
    if buf.len() < size {
        return Ok(None);
    }
    let mask: u8 = match size {
        1 => 0x7F,
        2 => 0x3F,
        3 => 0x1F,
        4 => 0x0F,
        _ => 0x07,
    };
    let mut len = u64::from(first & mask);
    for &b in &buf[1..size] {
        len = (len << 8) | u64::from(b);
    }
    Ok(Some((len, size)))
}

/// Appends one sentence (its words, then the terminating empty word) to `out`.
///
/// Building the whole sentence in one buffer lets the connection send it with a
/// single write: word-by-word writes plus Nagle's algorithm are what cost other
/// exporters ~44 ms per command.
pub fn encode_sentence<W, I>(words: I, out: &mut Vec<u8>) -> Result<(), ProtocolError>
where
    W: AsRef<[u8]>,
    I: IntoIterator<Item = W>,
{
    for word in words {
        let word = word.as_ref();
        encode_length(word.len(), out)?;
        out.extend_from_slice(word);
    }
    out.push(0);
    Ok(())
}

/// One decoded sentence: a shared buffer plus the byte ranges of its words.
///
/// Keeping the words as ranges into one [`Bytes`] makes decoding a large `print`
/// one allocation per sentence rather than one per word.
#[derive(Clone, PartialEq, Eq)]
pub struct Sentence {
    buf: Bytes,
    words: Vec<(u32, u32)>,
}

impl Sentence {
    /// Builds a sentence from owned words (for tests and the simulator).
    pub fn from_words<W: AsRef<[u8]>>(words: impl IntoIterator<Item = W>) -> Self {
        let mut buf = Vec::new();
        let mut ranges = Vec::new();
        for word in words {
            let word = word.as_ref();
            let start = buf.len();
            buf.extend_from_slice(word);
            ranges.push((start as u32, buf.len() as u32));
        }
        Self {
            buf: Bytes::from(buf),
            words: ranges,
        }
    }

    /// Number of words (the terminating empty word is not counted).
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True for a sentence without words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The `i`-th word.
    pub fn word(&self, i: usize) -> Option<&[u8]> {
        self.words
            .get(i)
            .map(|&(s, e)| &self.buf[s as usize..e as usize])
    }

    /// All words in order.
    pub fn words(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.words
            .iter()
            .map(|&(s, e)| &self.buf[s as usize..e as usize])
    }

    /// The bytes this sentence occupied on the wire (prefixes, words, terminator).
    pub fn wire_len(&self) -> usize {
        self.words()
            .map(|w| length_prefix_size(w.len()) + w.len())
            .sum::<usize>()
            + 1
    }

    /// Encodes the sentence back to wire form.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        encode_sentence(self.words(), out)
    }
}

impl std::fmt::Debug for Sentence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.words().map(crate::text::lossy))
            .finish()
    }
}

/// Incremental sentence decoder.
///
/// Feed it the connection's read buffer as often as bytes arrive; it returns each
/// complete sentence once and leaves partial input in the buffer. Empty sentences
/// (a lone `0x00`) are skipped, as the router itself does.
#[derive(Debug, Default)]
pub struct Decoder {
    limits: SizeLimits,
    /// Offset in the buffer up to which the current sentence has been parsed.
    scanned: usize,
    /// Word ranges of the current, incomplete sentence.
    words: Vec<(u32, u32)>,
}

impl Decoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: SizeLimits) -> Self {
        Self {
            limits,
            scanned: 0,
            words: Vec::new(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> SizeLimits {
        self.limits
    }

    /// Bytes still wanted to complete the word being parsed, if known: lets a reader
    /// size its next read without trusting the peer for more than the limit allows.
    pub fn pending_word_remaining(&self, buf: &[u8]) -> Option<usize> {
        let rest = buf.get(self.scanned..)?;
        match decode_length(rest) {
            Ok(Some((len, size))) => {
                let need = size + len as usize;
                Some(need.saturating_sub(rest.len()))
            }
            _ => None,
        }
    }

    /// Tries to take one complete sentence off the front of `buf`.
    ///
    /// `Ok(None)` means more bytes are needed. After an error the stream is out of
    /// sync and the connection must be dropped.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Sentence>, ProtocolError> {
        loop {
            let Some((len, prefix)) = decode_length(&buf[self.scanned..])? else {
                return Ok(None);
            };
            if len > self.limits.max_word_len as u64 {
                return Err(ProtocolError::WordTooLarge {
                    announced: len,
                    limit: self.limits.max_word_len,
                });
            }
            let end = self.scanned as u64 + prefix as u64 + len;
            if end > self.limits.max_sentence_len as u64 {
                return Err(ProtocolError::SentenceTooLarge {
                    size: end,
                    limit: self.limits.max_sentence_len,
                });
            }
            let end = end as usize;
            if buf.len() < end {
                return Ok(None);
            }
            let start = self.scanned + prefix;
            self.scanned = end;
            if len > 0 {
                self.words.push((start as u32, end as u32));
                continue;
            }
            // The empty word closes the sentence.
            let bytes = buf.split_to(end).freeze();
            self.scanned = 0;
            if self.words.is_empty() {
                continue;
            }
            let words = std::mem::take(&mut self.words);
            return Ok(Some(Sentence { buf: bytes, words }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn prefix(len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        encode_length(len, &mut out).unwrap();
        out
    }

    #[test]
    fn length_prefixes_match_the_documented_vectors() {
        let vectors: &[(usize, &[u8])] = &[
            (0, &[0x00]),
            (0x7F, &[0x7F]),
            (0x80, &[0x80, 0x80]),
            (0xFF, &[0x80, 0xFF]),
            (0x100, &[0x81, 0x00]),
            (0x3FFF, &[0xBF, 0xFF]),
            (0x4000, &[0xC0, 0x40, 0x00]),
            (0x1F_FFFF, &[0xDF, 0xFF, 0xFF]),
            (0x20_0000, &[0xE0, 0x20, 0x00, 0x00]),
            (0xFFF_FFFF, &[0xEF, 0xFF, 0xFF, 0xFF]),
            (0x1000_0000, &[0xF0, 0x10, 0x00, 0x00, 0x00]),
            (0xFFFF_FFFF, &[0xF0, 0xFF, 0xFF, 0xFF, 0xFF]),
        ];
        for &(len, bytes) in vectors {
            assert_eq!(prefix(len), bytes, "encoding {len:#x}");
            assert_eq!(length_prefix_size(len), bytes.len());
            assert_eq!(
                decode_length(bytes).unwrap(),
                Some((len as u64, bytes.len())),
                "decoding {len:#x}"
            );
        }
    }

    #[test]
    fn whole_sentences_match_the_documented_hex() {
        let mut out = Vec::new();
        encode_sentence(["/login", "=name=admin", "=password="], &mut out).unwrap();
        let expected = "062f6c6f67696e0b3d6e616d653d61646d696e0a3d70617373776f72643d00";
        assert_eq!(hex::encode(&out), expected);

        let mut out = Vec::new();
        encode_sentence(["!empty", ".tag=5"], &mut out).unwrap();
        assert_eq!(hex::encode(&out), "0621656d707479062e7461673d3500");
    }

    #[test]
    fn lengths_above_u32_cannot_be_encoded() {
        let mut out = Vec::new();
        assert_eq!(
            encode_length(MAX_ENCODABLE_LEN + 1, &mut out),
            Err(ProtocolError::Unencodable(MAX_ENCODABLE_LEN + 1))
        );
    }

    #[test]
    fn control_bytes_are_errors() {
        for b in 0xF8..=0xFF {
            assert_eq!(
                decode_length(&[b, 0, 0, 0, 0]),
                Err(ProtocolError::ReservedControlByte(b))
            );
        }
        let mut dec = Decoder::default();
        let mut buf = BytesMut::from(&[0x03, b'!', b'r', b'e', 0xF8][..]);
        assert_eq!(
            dec.decode(&mut buf),
            Err(ProtocolError::ReservedControlByte(0xF8))
        );
    }

    #[test]
    fn huge_announced_word_fails_before_buffering() {
        let mut dec = Decoder::new(SizeLimits {
            max_word_len: 1024,
            max_sentence_len: 4096,
        });
        let mut buf = BytesMut::from(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF][..]);
        assert_eq!(
            dec.decode(&mut buf),
            Err(ProtocolError::WordTooLarge {
                announced: 0xFFFF_FFFF,
                limit: 1024
            })
        );
    }

    #[test]
    fn sentence_limit_is_enforced_across_words() {
        let mut dec = Decoder::new(SizeLimits {
            max_word_len: 100,
            max_sentence_len: 150,
        });
        let mut wire = Vec::new();
        encode_sentence([vec![b'a'; 90], vec![b'b'; 90]], &mut wire).unwrap();
        let mut buf = BytesMut::from(&wire[..]);
        assert!(matches!(
            dec.decode(&mut buf),
            Err(ProtocolError::SentenceTooLarge { limit: 150, .. })
        ));
    }

    #[test]
    fn empty_sentences_are_skipped() {
        let mut wire = vec![0, 0];
        encode_sentence(["!done"], &mut wire).unwrap();
        let mut buf = BytesMut::from(&wire[..]);
        let s = Decoder::default().decode(&mut buf).unwrap().unwrap();
        assert_eq!(s.word(0), Some(&b"!done"[..]));
        assert!(buf.is_empty());
    }

    #[test]
    fn partial_input_waits_and_resumes() {
        let mut wire = Vec::new();
        encode_sentence(["!re", "=name=ether1"], &mut wire).unwrap();
        let mut dec = Decoder::default();
        let mut buf = BytesMut::new();
        for (i, b) in wire.iter().enumerate() {
            buf.extend_from_slice(&[*b]);
            let got = dec.decode(&mut buf).unwrap();
            assert_eq!(got.is_some(), i == wire.len() - 1);
            if let Some(s) = got {
                assert_eq!(s.len(), 2);
                assert_eq!(s.wire_len(), wire.len());
            }
        }
    }

    fn sentences() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
        // Word lengths straddle every prefix boundary that is cheap to allocate.
        let len = prop_oneof![
            0usize..4,
            0x7Eusize..0x82,
            0xFEusize..0x102,
            0x3FFEusize..0x4002,
        ];
        let word = len.prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n.max(1)));
        let sentence = proptest::collection::vec(word, 1..5);
        proptest::collection::vec(sentence, 1..4)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn round_trip_under_arbitrary_fragmentation(
            input in sentences(),
            cuts in proptest::collection::vec(1usize..5000, 0..20),
        ) {
            let mut wire = Vec::new();
            for s in &input {
                encode_sentence(s, &mut wire).unwrap();
            }
            let mut dec = Decoder::default();
            let mut buf = BytesMut::new();
            let mut out: Vec<Vec<Vec<u8>>> = Vec::new();
            let mut pos = 0;
            let mut cuts = cuts.into_iter();
            while pos < wire.len() {
                let step = cuts.next().unwrap_or(wire.len());
                let end = (pos + step).min(wire.len());
                buf.extend_from_slice(&wire[pos..end]);
                pos = end;
                while let Some(s) = dec.decode(&mut buf).unwrap() {
                    out.push(s.words().map(<[u8]>::to_vec).collect());
                }
            }
            prop_assert_eq!(out, input);
            prop_assert!(buf.is_empty());
        }

        #[test]
        fn every_length_round_trips(len in 0usize..=u32::MAX as usize) {
            let p = prefix(len);
            prop_assert_eq!(p.len(), length_prefix_size(len));
            prop_assert_eq!(decode_length(&p).unwrap(), Some((len as u64, p.len())));
        }

        #[test]
        fn decoder_never_panics_on_arbitrary_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048),
            chunk in 1usize..64,
        ) {
            let mut dec = Decoder::new(SizeLimits { max_word_len: 512, max_sentence_len: 1024 });
            let mut buf = BytesMut::new();
            'feed: for part in bytes.chunks(chunk) {
                buf.extend_from_slice(part);
                loop {
                    match dec.decode(&mut buf) {
                        Ok(Some(s)) => prop_assert!(s.wire_len() <= 1024),
                        Ok(None) => break,
                        Err(_) => break 'feed,
                    }
                }
            }
        }
    }
}
