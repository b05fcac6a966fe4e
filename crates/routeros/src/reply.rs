//! Reply sentences (`!re`, `!done`, `!trap`, `!fatal`, `!empty`) and their attributes.
//!
//! Real routers differ in ways that break strict parsers, so this module is lenient
//! where RouterOS is: `.tag` may appear anywhere in a reply, `!re` may carry no
//! attributes, `!fatal`'s reason is a bare word rather than `=message=`, and 7.18+
//! sends `!empty` before `!done` when a command has nothing to return. Reply words
//! this client does not know are reported as [`ReplyKind::Unknown`] so the session can
//! fail that one command with a typed error instead of crashing.

use crate::codec::{ProtocolError, Sentence};
use crate::text::lossy;
use std::borrow::Cow;

/// Splits an attribute word `=key=value` into key and value.
///
/// The value is everything after the first `=` following the leading one, so values
/// may themselves contain `=` (`=name=iu=c3Eeg`, `=issuer=C=US,CN=x`). A word `=key`
/// without a second `=` is a key with an empty value. Returns `None` for words that
/// are not attributes.
pub fn split_attribute(word: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = word.strip_prefix(b"=")?;
    match body.iter().position(|&b| b == b'=') {
        Some(i) => Some((&body[..i], &body[i + 1..])),
        None => Some((body, &[])),
    }
}

/// The kind of a reply sentence, from its first word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyKind {
    /// `!re`: one data item.
    Re,
    /// `!done`: the last sentence of a command.
    Done,
    /// `!trap`: an error; more traps or the `!done` follow.
    Trap,
    /// `!fatal`: the router is closing the connection.
    Fatal,
    /// `!empty` (RouterOS 7.18+): the command has no data; `!done` follows.
    Empty,
    /// A reply word this client does not know (kept verbatim, lossily decoded).
    Unknown(String),
}

/// One reply sentence with its kind and tag picked out.
#[derive(Debug, Clone)]
pub struct Reply {
    /// What kind of reply this is.
    pub kind: ReplyKind,
    sentence: Sentence,
}

impl Reply {
    /// Classifies a decoded sentence. Fails only when it does not start with `!`.
    pub fn parse(sentence: Sentence) -> Result<Self, ProtocolError> {
        let first = sentence.word(0).ok_or(ProtocolError::EmptyReply)?;
        let kind = match first {
            b"!re" => ReplyKind::Re,
            b"!done" => ReplyKind::Done,
            b"!trap" => ReplyKind::Trap,
            b"!fatal" => ReplyKind::Fatal,
            b"!empty" => ReplyKind::Empty,
            w if w.starts_with(b"!") => ReplyKind::Unknown(lossy(w).into_owned()),
            w => return Err(ProtocolError::NotAReply(lossy(w).into_owned())),
        };
        Ok(Self { kind, sentence })
    }

    /// The `.tag` value, wherever in the sentence it was. Read from the
    /// sentence when asked rather than copied out of every reply: a large
    /// print is a hundred thousand replies.
    pub fn tag(&self) -> Option<Cow<'_, str>> {
        self.sentence
            .words()
            .skip(1)
            .find_map(|w| w.strip_prefix(b".tag="))
            .map(lossy)
    }

    /// The attributes of this reply (`=key=value` words), as a row.
    pub fn into_row(self) -> Row {
        Row(self.sentence)
    }

    /// The value of attribute `key`, if present.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        attribute(&self.sentence, key)
    }

    /// `!trap`'s `=message=` (lossily decoded), or an empty string.
    pub fn message(&self) -> String {
        self.get("message")
            .map(|m| lossy(m).into_owned())
            .unwrap_or_default()
    }

    /// `!fatal`'s reason: its bare words (or `=message=` from clients that send one),
    /// joined by spaces. `.tag` words are not part of the reason.
    pub fn fatal_reason(&self) -> String {
        let parts: Vec<Cow<'_, str>> = self
            .sentence
            .words()
            .skip(1)
            .filter(|w| !w.starts_with(b".tag="))
            .map(|w| match split_attribute(w) {
                Some((b"message", v)) => lossy(v),
                _ => lossy(w),
            })
            .collect();
        parts.join(" ")
    }

    /// Bytes this reply occupied on the wire.
    pub fn wire_len(&self) -> usize {
        self.sentence.wire_len()
    }
}

/// The value of attribute `=key=` in `sentence` (a reply or a request).
pub fn attribute<'a>(sentence: &'a Sentence, key: &str) -> Option<&'a [u8]> {
    sentence
        .words()
        .skip(1)
        .filter_map(split_attribute)
        .find(|(k, _)| *k == key.as_bytes())
        .map(|(_, v)| v)
}

/// One data item (`!re`) or the attributes of a `!done`.
///
/// Values are raw bytes; use [`Row::text`] for a label and [`Row::str`] when only
/// valid UTF-8 is meaningful (numbers, durations, dates).
#[derive(Clone)]
pub struct Row(Sentence);

impl Row {
    /// Builds a row from `(key, value)` pairs (fixtures and tests).
    pub fn from_pairs<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let words = std::iter::once(b"!re".to_vec()).chain(pairs.into_iter().map(|(k, v)| {
            let mut w = Vec::with_capacity(k.as_ref().len() + v.as_ref().len() + 2);
            w.push(b'=');
            w.extend_from_slice(k.as_ref());
            w.push(b'=');
            w.extend_from_slice(v.as_ref());
            w
        }));
        Row(Sentence::from_words(words))
    }

    /// The raw value of `key`, if the item has it.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        attribute(&self.0, key)
    }

    /// The raw values of several keys in one pass over the row (each `None`
    /// when absent; a repeated key gives its first value, as [`Row::get`]):
    /// cheaper than a [`Row::get`] per key when a collector reads most of a
    /// row's words, as over a 40,000-rule firewall.
    pub fn pick<const N: usize>(&self, keys: [&str; N]) -> [Option<&[u8]>; N] {
        let mut values = [None; N];
        for (key, value) in self.attributes() {
            if let Some(i) = keys.iter().position(|k| k.as_bytes() == key)
                && values[i].is_none()
            {
                values[i] = Some(value);
            }
        }
        values
    }

    /// The value of `key` as UTF-8 text; `None` when absent or not UTF-8.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The value of `key` converted for use as a label (never fails on odd bytes).
    pub fn text(&self, key: &str) -> Option<Cow<'_, str>> {
        self.get(key).map(lossy)
    }

    /// All `(key, value)` attributes in wire order (`.tag` excluded).
    pub fn attributes(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.0.words().skip(1).filter_map(split_attribute)
    }

    /// True when the item carries no attributes (a bare `!re`).
    pub fn is_empty(&self) -> bool {
        self.attributes().next().is_none()
    }
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.attributes().map(|(k, v)| (lossy(k), lossy(v))))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(words: &[&[u8]]) -> Reply {
        Reply::parse(Sentence::from_words(words)).unwrap()
    }

    #[test]
    fn pick_reads_several_keys_in_one_pass_like_get() {
        let row = Row::from_pairs([("a", "1"), ("b", ""), ("c", "x=y"), ("a", "2")]);
        let picked = row.pick(["c", "a", "missing", "b"]);
        assert_eq!(
            picked,
            [row.get("c"), row.get("a"), row.get("missing"), row.get("b")]
        );
        assert_eq!(picked[1], Some(&b"1"[..]));
        assert_eq!(picked[2], None);
    }

    #[test]
    fn attributes_split_at_the_first_inner_equals() {
        assert_eq!(
            split_attribute(b"=name=iu=c3Eeg"),
            Some((&b"name"[..], &b"iu=c3Eeg"[..]))
        );
        assert_eq!(
            split_attribute(b"=comment="),
            Some((&b"comment"[..], &b""[..]))
        );
        assert_eq!(split_attribute(b"=once"), Some((&b"once"[..], &b""[..])));
        assert_eq!(
            split_attribute(b"=.id=*1A"),
            Some((&b".id"[..], &b"*1A"[..]))
        );
        assert_eq!(split_attribute(b".tag=3"), None);
        assert_eq!(split_attribute(b"!re"), None);
    }

    #[test]
    fn tag_is_found_anywhere() {
        let first = reply(&[b"!re", b".tag=7", b"=name=a"]);
        let last = reply(&[b"!re", b"=name=a", b".tag=7"]);
        assert_eq!(first.tag().as_deref(), Some("7"));
        assert_eq!(last.tag().as_deref(), Some("7"));
        assert_eq!(last.clone().into_row().str("name"), Some("a"));
        assert_eq!(last.into_row().attributes().count(), 1);
    }

    #[test]
    fn kinds_are_classified() {
        assert_eq!(reply(&[b"!re"]).kind, ReplyKind::Re);
        assert!(reply(&[b"!re"]).into_row().is_empty());
        assert_eq!(reply(&[b"!done", b"=ret=*3"]).get("ret"), Some(&b"*3"[..]));
        assert_eq!(reply(&[b"!empty", b".tag=5"]).kind, ReplyKind::Empty);
        assert_eq!(
            reply(&[b"!bogus"]).kind,
            ReplyKind::Unknown("!bogus".into())
        );
        let trap = reply(&[b"!trap", b"=category=2", b"=message=interrupted"]);
        assert_eq!(trap.kind, ReplyKind::Trap);
        assert_eq!(trap.message(), "interrupted");
        assert!(Reply::parse(Sentence::from_words([b"=x=y"])).is_err());
    }

    #[test]
    fn fatal_reason_is_a_bare_word() {
        let fatal = reply(&[b"!fatal", b"session terminated on request"]);
        assert_eq!(fatal.kind, ReplyKind::Fatal);
        assert_eq!(fatal.fatal_reason(), "session terminated on request");
        let with_message = reply(&[b"!fatal", b"=message=not logged in"]);
        assert_eq!(with_message.fatal_reason(), "not logged in");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever words a router sends, classifying the sentence and reading
        /// its attributes, tag, message and reason never panic, and an
        /// attribute written `=key=value` reads back as written.
        #[test]
        fn any_sentence_is_classified_without_panic(
            words in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40), 1..8),
            key in "[a-z.-]{1,12}",
            value in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            if let Ok(reply) = Reply::parse(Sentence::from_words(&words)) {
                let _ = (reply.message(), reply.fatal_reason(), reply.wire_len(), reply.get("ret"));
                let row = reply.into_row();
                let _ = (row.attributes().count(), row.text("name"), format!("{row:?}"));
            }
            let mut attribute = format!("={key}=").into_bytes();
            attribute.extend_from_slice(&value);
            let reply = Reply::parse(Sentence::from_words([&b"!re"[..], &attribute])).unwrap();
            proptest::prop_assert_eq!(reply.get(&key), Some(&value[..]));
        }
    }

    #[test]
    fn odd_bytes_survive_as_labels() {
        let row = Row::from_pairs([("comment", &b"\xe0\xef"[..])]);
        assert_eq!(row.str("comment"), None);
        assert_eq!(row.text("comment").as_deref(), Some("àï"));
    }
}
