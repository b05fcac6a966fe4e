//! Bounds on what a configuration text may cost to load, checked before the
//! text is turned into a [`Config`](crate::config::Config), so that a hostile
//! or broken file is a clear error within milliseconds, not minutes of CPU or
//! gigabytes of memory.
//!
//! Measured on the loader before these bounds (release build): 200 KB of
//! nested `[[[…]]]` took 50 s (the YAML tokenizer is quadratic in flow
//! nesting); 8 MB of `*alias` references to a 1 KB string took 3 GB; 8 MB of
//! `${X}` references took 6 GB.

use crate::config::locate::Location;
use routeros::file::size;
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// The most a configuration file may hold, and the most its text may hold
/// after `${VAR}` expansion.
pub const MAX_CONFIG_BYTES: u64 = 4 << 20;
/// The most a `password_file` may hold.
pub const MAX_PASSWORD_FILE_BYTES: u64 = 64 << 10;
/// How deeply collections may nest (the configuration itself needs 6 levels).
pub const MAX_DEPTH: usize = 64;
/// How many values (scalars, sequences, mappings and keys) the document may
/// hold once every alias (`*name`) is replaced by what it refers to.
pub const MAX_NODES: usize = 1_000_000;
/// How much scalar text the document may hold once aliases are expanded.
pub const MAX_EXPANDED_TEXT: usize = 16 << 20;

/// A limit exceeded at a place in the text.
pub(crate) type TextError = (Option<Location>, String);

/// The text of a configuration file: a UTF-8 byte order mark at the start is
/// dropped; bytes that are not UTF-8 are an error at their line and column.
pub(crate) fn decode(bytes: &[u8]) -> Result<&str, TextError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        // The bytes before the error are valid, so this cannot fail.
        let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
        let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
        let location = Location {
            line: valid.matches('\n').count() + 1,
            column: valid[line_start..].chars().count() + 1,
        };
        // The byte itself is not shown: it may be part of a password.
        let message = "the file is not valid UTF-8 here; save it as UTF-8".to_string();
        (Some(location), message)
    })
}

/// The text must not be larger than [`MAX_CONFIG_BYTES`] (the file reader
/// enforces the same for files; this covers text handed in directly).
pub(crate) fn check_size(text: &str) -> Result<(), TextError> {
    if text.len() as u64 > MAX_CONFIG_BYTES {
        let message = format!(
            "the configuration is larger than {}, the limit for a configuration",
            size(MAX_CONFIG_BYTES)
        );
        return Err((None, message));
    }
    Ok(())
}

fn too_deep() -> String {
    format!("collections nest deeper than {MAX_DEPTH} levels")
}

/// Refuses flow collections (`[…]`, `{…}`) nested deeper than [`MAX_DEPTH`]
/// in one linear pass over the text, before the YAML parser sees it: the
/// parser's tokenizer does work proportional to the flow depth for every
/// token, so 100,000 `[` took it 50 s. It also refuses more than
/// [`MAX_DEPTH`] sequence entries (`- - - …`) or explicit keys (`? ? …`)
/// opened on one line: the parser is quick with those, but keeps every event
/// of the document, and 4 MiB of `- ` cost 580 MB before it was refused.
/// Nesting by indentation needs the square of the depth in bytes, so it
/// cannot get deep within the size limit; [`check_structure`] counts every
/// kind of depth exactly once the text is parsed.
///
/// This scanner follows the tokenizer far enough not to count brackets in
/// comments, quoted scalars, block scalars (`|`, `>`) or plain scalars in
/// block context; where it cannot tell (a multi-line plain scalar) it counts,
/// so it may refuse such a text but never lets a deep one through.
pub(crate) fn prescan_depth(text: &str) -> Result<(), TextError> {
    let mut scan = FlowScan {
        limit: MAX_DEPTH,
        ..FlowScan::default()
    };
    for (index, line) in text.lines().enumerate() {
        if let Err(byte) = scan.line(line.as_bytes()) {
            let location = Location {
                line: index + 1,
                column: line[..byte].chars().count() + 1,
            };
            return Err((Some(location), too_deep()));
        }
    }
    Ok(())
}

#[derive(Default)]
struct FlowScan {
    /// The most `[` and `{` that may be open.
    limit: usize,
    /// Open `[` and `{`.
    depth: usize,
    /// The most that were open at once.
    deepest: usize,
    /// Block sequence entries and explicit keys opened on this line.
    entries: usize,
    /// Inside a quoted scalar (which may span lines): its quote.
    quote: Option<u8>,
    /// The previous byte was a `\` inside a double-quoted scalar.
    escaped: bool,
    /// Inside a block scalar: lines indented more than this belong to it.
    block_scalar: Option<usize>,
    /// Where a node may start: a `[`, `{`, quote, `|` or `>` here has its
    /// YAML meaning (elsewhere in block context it is part of a plain scalar).
    at_node: bool,
}

/// What to do after one byte of a line.
enum Step {
    /// Go on at this byte.
    At(usize),
    /// The rest of the line is a comment or a block scalar's header.
    EndOfLine,
    /// A `[`/`{` at this byte is one level too deep.
    TooDeep(usize),
}

fn is_blank(b: Option<u8>) -> bool {
    matches!(b, None | Some(b' ' | b'\t'))
}

/// Where a tag (`!name`, `!<uri>`) that starts at `i` ends. Stops before a
/// bracket, so a tag the tokenizer reads further only makes this count more.
fn tag_end(line: &[u8], i: usize) -> usize {
    if line.get(i + 1) == Some(&b'<') {
        return line[i..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(line.len(), |p| i + p + 1);
    }
    let tag_byte = |b: &u8| b.is_ascii_alphanumeric() || b"-_;/?:@&=+$.%!~*'()".contains(b);
    i + 1 + line[i + 1..].iter().take_while(|b| tag_byte(b)).count()
}

impl FlowScan {
    /// Scans one line; `Err` is the byte offset of a `[`/`{` too deep.
    fn line(&mut self, line: &[u8]) -> Result<(), usize> {
        // A `\` at the end of a line escapes the line break, nothing more.
        self.escaped = false;
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        if let Some(parent) = self.block_scalar {
            if indent == line.len() || indent > parent {
                return Ok(());
            }
            self.block_scalar = None;
        }
        let mut i = indent;
        if self.depth == 0 && self.quote.is_none() {
            self.at_node = true;
            // `--- [` starts a document whose root is a flow collection.
            if line.starts_with(b"---") && is_blank(line.get(3).copied()) {
                i = 3;
            }
        }
        // The column of the last key or `-` on this line: a block scalar's
        // lines are those indented more than the collection it is in.
        let mut parent = indent;
        self.entries = 0;
        while i < line.len() {
            match self.byte(line, i, &mut parent) {
                Step::At(next) => i = next,
                Step::EndOfLine => break,
                Step::TooDeep(at) => return Err(at),
            }
        }
        Ok(())
    }

    /// Reads the byte at `i` (and a whole tag or anchor starting there).
    fn byte(&mut self, line: &[u8], i: usize, parent: &mut usize) -> Step {
        let b = line[i];
        let next = line.get(i + 1).copied();
        if let Some(q) = self.quote {
            return Step::At(self.in_quote(q, b, next, i));
        }
        match b {
            b' ' | b'\t' => {}
            b'#' if i == 0 || is_blank(Some(line[i - 1])) => return Step::EndOfLine,
            b'[' | b'{' if self.depth > 0 || self.at_node => {
                self.depth += 1;
                self.deepest = self.deepest.max(self.depth);
                if self.depth > self.limit {
                    return Step::TooDeep(i);
                }
                self.at_node = true;
            }
            b']' | b'}' if self.depth > 0 => {
                self.depth -= 1;
                self.at_node = false;
            }
            b',' if self.depth > 0 => self.at_node = true,
            b'"' | b'\'' if self.at_node => {
                *parent = i;
                self.quote = Some(b);
            }
            b'|' | b'>' if self.at_node && self.depth == 0 => {
                self.block_scalar = Some(*parent);
                return Step::EndOfLine;
            }
            b'-' | b'?' if self.at_node && is_blank(next) => {
                *parent = i;
                self.entries += 1;
                if self.entries > self.limit {
                    return Step::TooDeep(i);
                }
            }
            b':' if is_blank(next) || (self.depth > 0 && b",[]{}".contains(&next.unwrap_or(0))) => {
                self.at_node = true;
            }
            // An anchor or a tag: the node itself follows it.
            b'&' if self.at_node => {
                let name = line[i + 1..].iter();
                let len = name
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
                    .count();
                return Step::At(i + 1 + len);
            }
            b'!' if self.at_node => return Step::At(tag_end(line, i)),
            _ => {
                if self.at_node && self.depth == 0 {
                    *parent = i;
                }
                self.at_node = false;
            }
        }
        Step::At(i + 1)
    }

    /// One byte inside a quoted scalar (`''` inside `'…'` is a quote);
    /// returns where to go on.
    fn in_quote(&mut self, q: u8, b: u8, next: Option<u8>, i: usize) -> usize {
        if self.escaped {
            self.escaped = false;
        } else if q == b'"' && b == b'\\' {
            self.escaped = true;
        } else if b == q && q == b'\'' && next == Some(b'\'') {
            return i + 2;
        } else if b == q {
            self.quote = None;
            self.at_node = false;
        }
        i + 1
    }
}

/// Walks the parsed document once, replaying every alias as the typed
/// deserialization would, and refuses it if it nests deeper than
/// [`MAX_DEPTH`] or expands to more than [`MAX_NODES`] values or
/// [`MAX_EXPANDED_TEXT`] of text. The parser's own alias bound (100 alias
/// jumps per event) does not stop a long list of `*big` references, each one
/// cheap to write and costly to expand. The error carries serde_yaml's
/// location and path.
pub(crate) fn check_structure(text: &str) -> Result<(), serde_yaml::Error> {
    check_structure_within(text, MAX_NODES, MAX_EXPANDED_TEXT)
}

/// [`check_structure`] with other bounds on values and text (for tests).
fn check_structure_within(text: &str, nodes: usize, bytes: usize) -> Result<(), serde_yaml::Error> {
    let mut budget = Budget {
        nodes,
        text: bytes,
        max_nodes: nodes,
        max_text: bytes,
    };
    let walk = Walk {
        budget: &mut budget,
        depth: 0,
    };
    walk.deserialize(serde_yaml::Deserializer::from_str(text))
}

/// What is left to spend, and the bounds (for the messages).
struct Budget {
    nodes: usize,
    text: usize,
    max_nodes: usize,
    max_text: usize,
}

struct Walk<'a> {
    budget: &'a mut Budget,
    /// Collections around this node.
    depth: usize,
}

impl Walk<'_> {
    fn count<E: de::Error>(&mut self, text: usize) -> Result<(), E> {
        let b = &mut *self.budget;
        let Some(nodes) = b.nodes.checked_sub(1) else {
            return Err(E::custom(format!(
                "the document holds more than {} values once aliases (`*name`) are expanded",
                b.max_nodes
            )));
        };
        let Some(left) = b.text.checked_sub(text) else {
            return Err(E::custom(format!(
                "the document holds more than {} of text once aliases (`*name`) are expanded",
                size(b.max_text as u64)
            )));
        };
        (b.nodes, b.text) = (nodes, left);
        Ok(())
    }

    /// Counts a collection and returns the walker for its children.
    fn enter<E: de::Error>(&mut self) -> Result<Walk<'_>, E> {
        self.count(0)?;
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(too_deep()));
        }
        Ok(Walk {
            budget: self.budget,
            depth: self.depth + 1,
        })
    }

    fn child(&mut self) -> Walk<'_> {
        Walk {
            budget: self.budget,
            depth: self.depth,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(mut self, _: bool) -> Result<(), E> {
        self.count(0)
    }

    fn visit_i64<E: de::Error>(mut self, _: i64) -> Result<(), E> {
        self.count(0)
    }

    fn visit_u64<E: de::Error>(mut self, _: u64) -> Result<(), E> {
        self.count(0)
    }

    fn visit_f64<E: de::Error>(mut self, _: f64) -> Result<(), E> {
        self.count(0)
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        self.count(v.len())
    }

    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        self.count(0)
    }

    fn visit_none<E: de::Error>(mut self) -> Result<(), E> {
        self.count(0)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut inner = self.enter()?;
        while seq.next_element_seed(inner.child())?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut inner = self.enter()?;
        while map.next_key_seed(inner.child())?.is_some() {
            map.next_value_seed(inner.child())?;
        }
        Ok(())
    }

    /// A tagged value (`!tag value`): the tag is a name, the value a node.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        use serde::de::VariantAccess;
        let (_, variant) = data.variant::<de::IgnoredAny>()?;
        variant.newtype_variant_seed(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn flow(text: &str) -> Result<(), String> {
        prescan_depth(text).map_err(|(l, m)| match l {
            Some(l) => format!("{}:{}: {m}", l.line, l.column),
            None => m,
        })
    }

    /// The deepest flow nesting the scan sees, with no limit.
    fn flow_depth(text: &str) -> usize {
        let mut scan = FlowScan {
            limit: usize::MAX,
            ..FlowScan::default()
        };
        for line in text.lines() {
            let _ = scan.line(line.as_bytes());
        }
        scan.deepest
    }

    fn structure(text: &str) -> Result<(), String> {
        check_structure(text).map_err(|e| e.to_string())
    }

    #[test]
    fn bom_is_dropped_and_bad_bytes_are_located() {
        assert_eq!(decode(b"\xef\xbb\xbfa: 1\n"), Ok("a: 1\n"));
        assert_eq!(decode("é: 1".as_bytes()), Ok("é: 1"));
        let (location, message) = decode(b"a: 1\nb\xc3\xa9: \xff\xfe\n").expect_err("not UTF-8");
        assert_eq!(location, Some(Location { line: 2, column: 5 }));
        assert!(message.contains("not valid UTF-8"), "{message}");
        // A BOM anywhere but the start is not dropped (it is then text).
        assert_eq!(decode(b"a\xef\xbb\xbf"), Ok("a\u{feff}"));
    }

    #[test]
    fn flow_depth_is_bounded() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert_eq!(flow(&ok), Ok(()));
        let deep = format!("a:\n  b: {}", "[".repeat(100_000));
        let e = flow(&deep).expect_err("too deep");
        assert_eq!(
            e,
            format!("2:{}: {}", "  b: ".len() + MAX_DEPTH + 1, too_deep())
        );
        let e = flow(&format!("--- {}", "{a: ".repeat(MAX_DEPTH + 1))).expect_err("document");
        assert!(e.starts_with("1:"), "{e}");
        // Sequence entries or explicit keys opened on one line.
        assert_eq!(flow(&("- ".repeat(MAX_DEPTH) + "x\n")), Ok(()));
        let e = flow(&format!("a:\n  {}x\n", "- ".repeat(100_000))).expect_err("entries");
        assert_eq!(e, format!("2:{}: {}", 3 + 2 * MAX_DEPTH, too_deep()));
        let e = flow(&format!("{}x\n", "? ".repeat(MAX_DEPTH + 1))).expect_err("keys");
        assert!(e.starts_with("1:"), "{e}");
        // Across lines, and through anchors and tags.
        let e = flow(&"- &a !t [\n".repeat(MAX_DEPTH + 1)).expect_err("multi-line");
        assert!(e.starts_with(&format!("{}:", MAX_DEPTH + 1)), "{e}");
    }

    #[test]
    fn brackets_that_are_text_are_not_counted() {
        let many = "[".repeat(MAX_DEPTH + 1);
        for text in [
            format!("password: a{many}\n"),
            format!("password: \"{many}\"\n"),
            format!("password: '{many}'\n"),
            format!("password: 'it''s {many}'\n"),
            format!("password: \"a\\\" {many}\"\n"),
            format!("a: 1 # {many}\n"),
            format!("cert: |\n  {many}\n  {many}\n\n  x\nb: 1\n"),
            format!("- k: >-\n    {many}\n- x\n"),
            format!("key: \"multi\n  line {many}\"\n"),
            format!("a: [x, \"{many}\", '{many}', y]\n"),
        ] {
            assert_eq!(flow(&text), Ok(()), "{text}");
        }
    }

    #[test]
    fn a_block_scalar_ends_where_its_collection_does() {
        // `o` is a sibling of `k`, not text of the block scalar.
        let text = format!("- k: |\n    text\n  o: {}\n", "[".repeat(MAX_DEPTH + 1));
        let e = flow(&text).expect_err("too deep");
        assert!(e.starts_with("3:"), "{e}");
    }

    #[test]
    fn structure_depth_counts_block_and_flow_nesting() {
        let ok = "- ".repeat(MAX_DEPTH) + "x\n";
        assert_eq!(structure(&ok), Ok(()));
        let e = structure(&("- ".repeat(MAX_DEPTH + 1) + "x\n")).expect_err("too deep");
        assert!(e.contains(&too_deep()), "{e}");
        assert!(e.contains("line 1 column"), "{e}");
        // Through an alias, the nesting of what it refers to counts.
        let half = MAX_DEPTH / 2 + 1;
        let text = format!(
            "a: &x {}\nb: {}*x{}\n",
            "[".repeat(half) + &"]".repeat(half),
            "[".repeat(half),
            "]".repeat(half)
        );
        let e = structure(&text).expect_err("deep through alias");
        assert!(e.contains(&too_deep()), "{e}");
    }

    #[test]
    fn alias_expansion_is_bounded() {
        let small =
            |text: &str| check_structure_within(text, 1000, 10_000).map_err(|e| e.to_string());
        // A 1 KiB string referred to 20 times: 20 KiB expanded.
        let text = format!(
            "a: &a {}\nb: [{}]\n",
            "y".repeat(1024),
            ["*a"; 20].join(",")
        );
        let ok = format!("a: &a {}\nb: [{}]\n", "y".repeat(1024), ["*a"; 8].join(","));
        assert_eq!(small(&ok), Ok(()));
        let e = small(&text).expect_err("too much text");
        assert!(
            e.contains("more than 10000 bytes of text once aliases"),
            "{e}"
        );
        // The path is where the alias is; the location, what it refers to.
        assert!(e.starts_with("b[8]: "), "{e}");
        assert!(e.ends_with("at line 1 column 4"), "{e}");
        // A list of 100 values referred to 20 times: 2,000 values.
        let text = format!(
            "a: &a [{}]\nb: [{}]\n",
            ["1"; 100].join(","),
            ["*a"; 20].join(",")
        );
        let e = small(&text).expect_err("too many values");
        assert!(e.contains("more than 1000 values once aliases"), "{e}");
        // Billion laughs (9^9 values): serde_yaml's own bound on alias uses
        // (100 per event) stops it first; the loader words its message.
        let mut text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n".to_string();
        for k in 1..10 {
            let refs = vec![format!("*a{}", k - 1); 9].join(", ");
            text.push_str(&format!("a{k}: &a{k} [{refs}]\n"));
        }
        let e = structure(&text).expect_err("billion laughs");
        assert_eq!(e, "repetition limit exceeded");
        // Aliases within the bounds are fine, tags too.
        let text = "common: &c {site: hq}\nx: *c\ny: !tag [*c, !t 1]\n";
        assert_eq!(structure(text), Ok(()));
    }

    /// How one level of a generated document nests its child.
    #[derive(Debug, Clone, Copy)]
    enum Level {
        BlockMap,
        BlockSeq,
        FlowSeq,
        FlowMap,
    }

    /// How a sibling scalar next to the child is written.
    #[derive(Debug, Clone, Copy)]
    enum Style {
        Plain,
        Double,
        Single,
        /// `|` with two lines (block levels only).
        Literal,
        /// Plain, then a comment (block levels only).
        Commented,
    }

    fn scalar(style: Style, text: &str, indent: usize, flow: bool) -> String {
        let plain: String = text.chars().filter(|c| !" #:,".contains(*c)).collect();
        match style {
            Style::Double => serde_json::to_string(text).unwrap_or_default(),
            Style::Single => format!("'{}'", text.replace('\'', "''")),
            Style::Commented if flow => {
                let word = plain.replace(|c: char| !c.is_ascii_alphanumeric(), "");
                format!("p{word} # {text}\n")
            }
            _ if flow => format!(
                "p{}",
                plain.replace(|c: char| !c.is_ascii_alphanumeric(), "")
            ),
            Style::Plain => format!("p{plain}"),
            Style::Commented => format!("p{plain} # {text}"),
            Style::Literal => {
                // Content lines may start with anything but a space.
                let line = format!("{}.", text.trim_start());
                let sp = " ".repeat(indent + 2);
                format!("|\n{sp}{line}\n\n{sp}{line}")
            }
        }
    }

    /// The node of `levels` as it follows `key:` or `-` at `indent`: a
    /// block (starting with a newline) or inline (starting with a space).
    fn node(levels: &[(Level, Style, String)], indent: usize, leaf: &str) -> String {
        let Some(((level, style, text), rest)) = levels.split_first() else {
            return format!(" {leaf}");
        };
        let sp = " ".repeat(indent);
        match level {
            Level::BlockMap => {
                let sib = scalar(*style, text, indent, false);
                format!("\n{sp}s: {sib}\n{sp}k:{}", node(rest, indent + 2, leaf))
            }
            Level::BlockSeq => {
                let sib = scalar(*style, text, indent, false);
                format!("\n{sp}- {sib}\n{sp}-{}", node(rest, indent + 2, leaf))
            }
            // The sibling goes first or (for an odd length) after the child.
            Level::FlowSeq => {
                let sib = scalar(*style, text, indent, true);
                match text.len() % 2 {
                    0 => format!(" [{sib},{}]", node(rest, indent, leaf)),
                    _ => format!(" [{},{sib}]", node(rest, indent, leaf)),
                }
            }
            Level::FlowMap => {
                let sib = scalar(*style, text, indent, true);
                match text.len() % 2 {
                    0 => format!(" {{s: {sib}, k:{}}}", node(rest, indent, leaf)),
                    _ => format!(" {{k:{}, s: {sib}}}", node(rest, indent, leaf)),
                }
            }
        }
    }

    fn levels(block: bool) -> impl Strategy<Value = Vec<(Level, Style, String)>> {
        let kinds = if block {
            vec![Level::BlockMap, Level::BlockSeq]
        } else {
            vec![Level::FlowSeq, Level::FlowMap]
        };
        let styles = if block {
            vec![
                Style::Plain,
                Style::Double,
                Style::Single,
                Style::Literal,
                Style::Commented,
            ]
        } else {
            vec![Style::Plain, Style::Double, Style::Single, Style::Commented]
        };
        let level = (
            prop::sample::select(kinds),
            prop::sample::select(styles),
            "[a-z\\[\\]{}#'\" :,&*!|>-]{0,12}",
        );
        // Often near the limit, where a miscount changes the answer.
        let len = prop_oneof![0..90usize, (MAX_DEPTH - 4)..(MAX_DEPTH + 4)];
        len.prop_flat_map(move |n| prop::collection::vec(level.clone(), n))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Block levels, then flow levels, each with a sibling scalar full
        /// of brackets, quotes and comment signs: the flow scan counts
        /// exactly the flow levels and refuses the documents with more than
        /// 64 of them; the counting pass refuses exactly those with more
        /// than 64 levels in all.
        #[test]
        fn depth_checks_are_exact(block in levels(true), flow in levels(false)) {
            let all: Vec<_> = block.iter().chain(&flow).cloned().collect();
            let text = node(&all, 0, "leaf");
            let text = text.trim_start();
            prop_assert_eq!(flow_depth(text), flow.len(), "{}", text);
            let flow_err = prescan_depth(text).err();
            prop_assert_eq!(flow_err.is_some(), flow.len() > MAX_DEPTH, "{}", text);
            if flow_err.is_some() {
                return Ok(());
            }
            let depth = all.len();
            match check_structure(text) {
                Ok(()) => prop_assert!(depth <= MAX_DEPTH, "{}", text),
                Err(e) => {
                    prop_assert!(depth > MAX_DEPTH, "{}: {}", e, text);
                    prop_assert!(e.to_string().contains(&too_deep()), "{}", e);
                }
            }
        }
    }
}
