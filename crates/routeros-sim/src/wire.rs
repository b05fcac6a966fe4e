//! Encoding reply sentences: tags, property lists and pre-encoded row tables.

use crate::menus::SimRow;
use crate::query::Query;
use routeros::codec::{self, ProtocolError};

/// Where a router puts `.tag=` inside its reply sentences (captures show both).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TagPosition {
    /// Right after the reply word: `!re .tag=1 =name=x`.
    #[default]
    AfterReplyWord,
    /// As the last word: `!re =name=x .tag=1`.
    Last,
}

/// Appends one word made of the concatenation of `parts`.
fn put_word(out: &mut Vec<u8>, parts: &[&[u8]]) -> Result<(), ProtocolError> {
    let len = parts.iter().map(|p| p.len()).sum();
    codec::encode_length(len, out)?;
    for part in parts {
        out.extend_from_slice(part);
    }
    Ok(())
}

/// Appends the attribute word `=key=value`.
pub fn put_attribute(out: &mut Vec<u8>, key: &[u8], value: &[u8]) -> Result<(), ProtocolError> {
    put_word(out, &[b"=", key, b"=", value])
}

/// A parsed `=.proplist=a,b,c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proplist(Vec<Vec<u8>>);

impl Proplist {
    /// Parses the comma-separated list (empty names are dropped).
    pub fn parse(raw: &[u8]) -> Self {
        Self(
            raw.split(|&b| b == b',')
                .filter(|name| !name.is_empty())
                .map(<[u8]>::to_vec)
                .collect(),
        )
    }

    /// True when `key` was requested.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.0.iter().any(|k| k == key)
    }
}

/// Encodes the `!re` sentence of one row, keeping only `proplist` properties.
pub fn encode_row(
    out: &mut Vec<u8>,
    row: &SimRow,
    proplist: Option<&Proplist>,
) -> Result<(), ProtocolError> {
    put_word(out, &[b"!re"])?;
    for (key, value) in row {
        if proplist.is_none_or(|p| p.contains(key.as_bytes())) {
            put_attribute(out, key.as_bytes(), value)?;
        }
    }
    out.push(0);
    Ok(())
}

/// Encodes reply sentences for one command, adding its `.tag` where configured.
#[derive(Debug, Clone)]
pub struct ReplyEncoder {
    tag_word: Option<Vec<u8>>,
    position: TagPosition,
}

impl ReplyEncoder {
    /// An encoder for a command tagged `tag` (`None` or empty: untagged).
    pub fn new(tag: Option<&[u8]>, position: TagPosition) -> Self {
        let tag_word = tag
            .filter(|t| !t.is_empty())
            .map(|t| [&b".tag="[..], t].concat());
        Self { tag_word, position }
    }

    /// Appends `reply` (e.g. `!done`) with `attributes`, tagged.
    pub fn sentence(
        &self,
        out: &mut Vec<u8>,
        reply: &str,
        attributes: &[(&str, &[u8])],
    ) -> Result<(), ProtocolError> {
        put_word(out, &[reply.as_bytes()])?;
        self.tag_after_reply_word(out)?;
        for (key, value) in attributes {
            put_attribute(out, key.as_bytes(), value)?;
        }
        self.tag_last(out)?;
        out.push(0);
        Ok(())
    }

    /// Appends `!trap` with an optional category and a message.
    pub fn trap(
        &self,
        out: &mut Vec<u8>,
        category: Option<u8>,
        message: &str,
    ) -> Result<(), ProtocolError> {
        let category = category.map(|c| c.to_string());
        let mut attributes: Vec<(&str, &[u8])> = Vec::with_capacity(2);
        if let Some(c) = &category {
            attributes.push(("category", c.as_bytes()));
        }
        attributes.push(("message", message.as_bytes()));
        self.sentence(out, "!trap", &attributes)
    }

    /// Appends a pre-encoded sentence (`encoded` ends with its terminator).
    pub fn append_encoded(&self, out: &mut Vec<u8>, encoded: &[u8]) -> Result<(), ProtocolError> {
        let Some(tag) = &self.tag_word else {
            out.extend_from_slice(encoded);
            return Ok(());
        };
        let body = encoded.strip_suffix(&[0]).unwrap_or(encoded);
        match self.position {
            TagPosition::Last => {
                out.extend_from_slice(body);
                put_word(out, &[tag])?;
            }
            TagPosition::AfterReplyWord => {
                let first_word_end = match codec::decode_length(body)? {
                    Some((len, prefix)) => (prefix + len as usize).min(body.len()),
                    None => body.len(),
                };
                out.extend_from_slice(&body[..first_word_end]);
                put_word(out, &[tag])?;
                out.extend_from_slice(&body[first_word_end..]);
            }
        }
        out.push(0);
        Ok(())
    }

    /// True when pre-encoded sentences can be copied verbatim.
    pub fn is_untagged(&self) -> bool {
        self.tag_word.is_none()
    }

    fn tag_after_reply_word(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        match (&self.tag_word, self.position) {
            (Some(tag), TagPosition::AfterReplyWord) => put_word(out, &[tag]),
            _ => Ok(()),
        }
    }

    fn tag_last(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        match (&self.tag_word, self.position) {
            (Some(tag), TagPosition::Last) => put_word(out, &[tag]),
            _ => Ok(()),
        }
    }
}

/// The untagged `!re` sentences of a filtered table, back to back.
#[derive(Debug, Default)]
pub struct EncodedRows {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl EncodedRows {
    /// Encodes the rows matching `query`, restricted to `proplist`.
    pub fn build(
        rows: &[SimRow],
        query: &Query,
        proplist: Option<&Proplist>,
    ) -> Result<Self, ProtocolError> {
        let mut encoded = Self::default();
        for row in rows.iter().filter(|row| query.matches(row)) {
            encode_row(&mut encoded.bytes, row, proplist)?;
            encoded.ends.push(encoded.bytes.len());
        }
        Ok(encoded)
    }

    /// Number of sentences.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when no row matched.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Approximate memory held, in bytes.
    pub fn size_bytes(&self) -> usize {
        self.bytes.len() + self.ends.len() * std::mem::size_of::<usize>()
    }

    /// The `i`-th sentence (with terminator).
    pub fn sentence(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.bytes.get(start..end)
    }

    /// Sentences `from..to` as one contiguous slice.
    pub fn range(&self, from: usize, to: usize) -> &[u8] {
        let start = if from == 0 {
            0
        } else {
            self.ends.get(from - 1).copied().unwrap_or(self.bytes.len())
        };
        let end = if to == 0 {
            0
        } else {
            self.ends.get(to - 1).copied().unwrap_or(self.bytes.len())
        };
        self.bytes.get(start..end.max(start)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::row;
    use bytes::BytesMut;
    use routeros::codec::Decoder;

    fn decode_all(wire: &[u8]) -> Vec<Vec<String>> {
        let mut buf = BytesMut::from(wire);
        let mut decoder = Decoder::default();
        let mut out = Vec::new();
        while let Some(s) = decoder.decode(&mut buf).unwrap() {
            out.push(
                s.words()
                    .map(|w| String::from_utf8_lossy(w).into_owned())
                    .collect(),
            );
        }
        assert!(buf.is_empty());
        out
    }

    #[test]
    fn tags_go_where_configured() {
        let mut out = Vec::new();
        let after = ReplyEncoder::new(Some(b"7"), TagPosition::AfterReplyWord);
        after.sentence(&mut out, "!done", &[("ret", b"3")]).unwrap();
        let last = ReplyEncoder::new(Some(b"7"), TagPosition::Last);
        last.sentence(&mut out, "!done", &[("ret", b"3")]).unwrap();
        let untagged = ReplyEncoder::new(Some(b""), TagPosition::Last);
        untagged.trap(&mut out, Some(2), "interrupted").unwrap();
        assert_eq!(
            decode_all(&out),
            vec![
                vec!["!done", ".tag=7", "=ret=3"],
                vec!["!done", "=ret=3", ".tag=7"],
                vec!["!trap", "=category=2", "=message=interrupted"],
            ]
        );
    }

    #[test]
    fn proplist_keeps_only_listed_and_present_keys() {
        let rows = vec![
            row([(".id", "*1"), ("name", "ether1"), ("type", "ether")]),
            row([(".id", "*2"), ("name", "vlan9"), ("type", "vlan")]),
        ];
        let proplist = Proplist::parse(b"name,comment");
        let encoded = EncodedRows::build(&rows, &Query::default(), Some(&proplist)).unwrap();
        assert_eq!(
            decode_all(encoded.range(0, encoded.len())),
            vec![vec!["!re", "=name=ether1"], vec!["!re", "=name=vlan9"]]
        );
        let nothing = Proplist::parse(b"comment");
        let encoded = EncodedRows::build(&rows, &Query::default(), Some(&nothing)).unwrap();
        assert_eq!(
            decode_all(encoded.range(0, 2)),
            vec![vec!["!re"], vec!["!re"]]
        );
    }

    #[test]
    fn queries_filter_and_pre_encoded_rows_take_tags() {
        let rows = vec![
            row([(".id", "*1"), ("type", "ether")]),
            row([(".id", "*2"), ("type", "vlan")]),
            row([(".id", "*A"), ("type", "bridge")]),
        ];
        let query = Query::parse([&b"?type=bridge"[..]]).unwrap();
        let encoded = EncodedRows::build(&rows, &query, None).unwrap();
        assert_eq!(encoded.len(), 1);
        let mut out = Vec::new();
        let sentence = encoded.sentence(0).unwrap();
        ReplyEncoder::new(Some(b"x"), TagPosition::AfterReplyWord)
            .append_encoded(&mut out, sentence)
            .unwrap();
        ReplyEncoder::new(Some(b"x"), TagPosition::Last)
            .append_encoded(&mut out, sentence)
            .unwrap();
        assert_eq!(
            decode_all(&out),
            vec![
                vec!["!re", ".tag=x", "=.id=*A", "=type=bridge"],
                vec!["!re", "=.id=*A", "=type=bridge", ".tag=x"],
            ]
        );
        assert!(encoded.sentence(1).is_none());
        assert!(encoded.range(1, 1).is_empty());
    }

    #[test]
    fn non_utf8_values_pass_through() {
        let rows = vec![vec![("comment".to_owned(), vec![0xE0, 0xEF, b'='])]];
        let encoded = EncodedRows::build(&rows, &Query::default(), None).unwrap();
        assert!(encoded.range(0, 1).ends_with(&[b'=', 0xE0, 0xEF, b'=', 0]));
    }
}
