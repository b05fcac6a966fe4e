//! Building request sentences.

use crate::codec::{ProtocolError, encode_sentence};

/// A RouterOS API request: a command path plus attribute and query words.
///
/// The session adds the `.tag`; callers only say what to run. Exporter commands
/// should always carry [`Command::proplist`]: without it RouterOS computes every
/// property, including slow ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    words: Vec<Vec<u8>>,
}

impl Command {
    /// A command for `path`, e.g. `/interface/print`.
    pub fn new(path: &str) -> Self {
        Self {
            words: vec![path.as_bytes().to_vec()],
        }
    }

    /// The command path (first word).
    pub fn path(&self) -> &str {
        std::str::from_utf8(&self.words[0]).unwrap_or("")
    }

    /// Adds `=key=value`.
    pub fn attr(mut self, key: &str, value: impl AsRef<[u8]>) -> Self {
        let value = value.as_ref();
        let mut w = Vec::with_capacity(key.len() + value.len() + 2);
        w.push(b'=');
        w.extend_from_slice(key.as_bytes());
        w.push(b'=');
        w.extend_from_slice(value);
        self.words.push(w);
        self
    }

    /// Adds a flag attribute `=key=` (`=once=`, `=count-only=`).
    pub fn flag(self, key: &str) -> Self {
        self.attr(key, "")
    }

    /// Adds `=.proplist=a,b,c`: only these properties are computed and returned.
    pub fn proplist(self, props: &[&str]) -> Self {
        self.attr(".proplist", props.join(","))
    }

    /// Adds a query word; `word` is given without the leading `?`
    /// (`"type=ether"`, `">comment="`, `"#|"`). Bytes are accepted because a
    /// value compared against may be a name stored in a non-UTF-8 code page.
    pub fn query(mut self, word: impl AsRef<[u8]>) -> Self {
        let word = word.as_ref();
        let mut w = Vec::with_capacity(word.len() + 1);
        w.push(b'?');
        w.extend_from_slice(word);
        self.words.push(w);
        self
    }

    /// The words of this command, without a tag.
    pub fn words(&self) -> &[Vec<u8>] {
        &self.words
    }

    /// Appends the wire form with `.tag=<tag>` to `out`, as one sentence.
    pub fn encode_tagged(&self, tag: &str, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        let tag_word = format!(".tag={tag}");
        encode_sentence(
            self.words
                .iter()
                .map(Vec::as_slice)
                .chain(std::iter::once(tag_word.as_bytes())),
            out,
        )
    }

    /// A short human form for logs and debug traces (values of `password` and
    /// `response` are hidden).
    pub fn display(&self) -> String {
        self.words
            .iter()
            .map(|w| {
                let text = crate::text::lossy(w);
                if text.starts_with("=password=") || text.starts_with("=response=") {
                    let key = text.split('=').nth(1).unwrap_or_default();
                    format!("={key}=<secret>")
                } else {
                    text.into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_words_in_order() {
        let cmd = Command::new("/interface/print")
            .proplist(&["name", "rx-byte"])
            .query("type=ether")
            .query(b"server=\xe3\xee\xf1\xf2\xe8")
            .flag("count-only");
        assert_eq!(cmd.path(), "/interface/print");
        let words: Vec<&[u8]> = cmd.words().iter().map(Vec::as_slice).collect();
        assert_eq!(
            words,
            vec![
                &b"/interface/print"[..],
                b"=.proplist=name,rx-byte",
                b"?type=ether",
                b"?server=\xe3\xee\xf1\xf2\xe8",
                b"=count-only="
            ]
        );
    }

    #[test]
    fn display_hides_secrets() {
        let cmd = Command::new("/login")
            .attr("name", "admin")
            .attr("password", "s3cret");
        assert_eq!(cmd.display(), "/login =name=admin =password=<secret>");
    }
}
