//! The RouterOS `print` query language: a stack machine over booleans.
//!
//! Query words start with `?` and are evaluated left to right for every item,
//! starting from a stack of infinitely many `true` values; the item matches when no
//! `false` remains on the stack at the end.
//!
//! | word | pushes |
//! |---|---|
//! | `?name` | true if the item has `name` |
//! | `?-name` | true if the item lacks `name` |
//! | `?name=x`, `?=name=x` | true if `name` equals `x` |
//! | `?<name=x`, `?>name=x` | true if `name` is less / greater than `x` |
//! | `?#ops` | stack operations, see [`StackOp`] |
//!
//! Comparisons are numeric when both sides parse as integers, bytewise otherwise.
//! An absent property compares as the empty value, so `?>comment=` selects items
//! with a non-empty comment and `?comment=` those without one.

use std::cmp::Ordering;

/// Why a query word could not be parsed (the router answers with a `!trap`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The word is not a query word or names no property.
    #[error("invalid query word {0:?}")]
    InvalidWord(String),
    /// A `?#` word contains a character that is not a stack operation.
    #[error("invalid query stack operation {0:?}")]
    InvalidOperation(char),
}

/// One operation of a `?#` word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackOp {
    /// Push a copy of the value at this index (top is 0).
    Copy(usize),
    /// Replace the whole stack with the value at this index (index at word end).
    Replace(usize),
    /// Negate the top value.
    Not,
    /// Pop two values, push their AND.
    And,
    /// Pop two values, push their OR.
    Or,
    /// Push a copy of the top value (`.` not following an index).
    Dup,
}

/// One parsed query word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryWord {
    /// `?name`: the property is present.
    Has(Vec<u8>),
    /// `?-name`: the property is absent.
    Lacks(Vec<u8>),
    /// `?name=x` / `?=name=x`.
    Equals(Vec<u8>, Vec<u8>),
    /// `?<name=x`.
    Less(Vec<u8>, Vec<u8>),
    /// `?>name=x`.
    Greater(Vec<u8>, Vec<u8>),
    /// `?#ops`.
    Stack(Vec<StackOp>),
}

/// A parsed query: the `?` words of one `print`, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    words: Vec<QueryWord>,
}

/// The evaluation stack: finitely many values above an infinite run of `base`.
struct BoolStack {
    values: Vec<bool>,
    base: bool,
}

impl BoolStack {
    fn new() -> Self {
        Self {
            values: Vec::new(),
            base: true,
        }
    }

    fn pop(&mut self) -> bool {
        self.values.pop().unwrap_or(self.base)
    }

    fn at(&self, index: usize) -> bool {
        let len = self.values.len();
        if index < len {
            self.values[len - 1 - index]
        } else {
            self.base
        }
    }

    fn apply(&mut self, op: StackOp) {
        match op {
            StackOp::Copy(i) => self.values.push(self.at(i)),
            StackOp::Replace(i) => {
                self.base = self.at(i);
                self.values.clear();
            }
            StackOp::Not => {
                let top = self.pop();
                self.values.push(!top);
            }
            StackOp::And => {
                let (a, b) = (self.pop(), self.pop());
                self.values.push(a && b);
            }
            StackOp::Or => {
                let (a, b) = (self.pop(), self.pop());
                self.values.push(a || b);
            }
            StackOp::Dup => self.values.push(self.at(0)),
        }
    }

    fn all_true(&self) -> bool {
        self.base && self.values.iter().all(|&v| v)
    }
}

impl Query {
    /// True when the query has no words (matches everything).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The parsed words.
    pub fn words(&self) -> &[QueryWord] {
        &self.words
    }

    /// Parses the query words of a request, in order. Each word must start with `?`.
    pub fn parse<'a>(words: impl IntoIterator<Item = &'a [u8]>) -> Result<Self, QueryError> {
        let words = words
            .into_iter()
            .map(parse_word)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { words })
    }

    /// Evaluates the query against one item given as `(key, value)` pairs.
    pub fn matches<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, item: &[(K, V)]) -> bool {
        if self.words.is_empty() {
            return true;
        }
        let lookup = |name: &[u8]| {
            item.iter()
                .find(|(k, _)| k.as_ref() == name)
                .map(|(_, v)| v.as_ref())
        };
        let mut stack = BoolStack::new();
        for word in &self.words {
            match word {
                QueryWord::Has(name) => stack.values.push(lookup(name).is_some()),
                QueryWord::Lacks(name) => stack.values.push(lookup(name).is_none()),
                QueryWord::Equals(name, value) => stack
                    .values
                    .push(lookup(name).unwrap_or_default() == value.as_slice()),
                QueryWord::Less(name, value) => stack
                    .values
                    .push(compare(lookup(name).unwrap_or_default(), value) == Ordering::Less),
                QueryWord::Greater(name, value) => stack
                    .values
                    .push(compare(lookup(name).unwrap_or_default(), value) == Ordering::Greater),
                QueryWord::Stack(ops) => ops.iter().for_each(|&op| stack.apply(op)),
            }
        }
        stack.all_true()
    }
}

/// Numeric comparison when both sides are integers, bytewise otherwise.
fn compare(left: &[u8], right: &[u8]) -> Ordering {
    let as_int = |b: &[u8]| std::str::from_utf8(b).ok()?.parse::<i128>().ok();
    match (as_int(left), as_int(right)) {
        (Some(l), Some(r)) => l.cmp(&r),
        _ => left.cmp(right),
    }
}

fn invalid(word: &[u8]) -> QueryError {
    QueryError::InvalidWord(routeros::text::lossy(word).into_owned())
}

/// Splits `name=value`; the name must not be empty.
fn name_and_value<'a>(body: &'a [u8], word: &[u8]) -> Result<(&'a [u8], &'a [u8]), QueryError> {
    let eq = body
        .iter()
        .position(|&b| b == b'=')
        .ok_or_else(|| invalid(word))?;
    let (name, value) = (&body[..eq], &body[eq + 1..]);
    if name.is_empty() {
        return Err(invalid(word));
    }
    Ok((name, value))
}

fn parse_word(word: &[u8]) -> Result<QueryWord, QueryError> {
    let body = word.strip_prefix(b"?").ok_or_else(|| invalid(word))?;
    let pair = |rest: &[u8]| name_and_value(rest, word).map(|(n, v)| (n.to_vec(), v.to_vec()));
    match body.first() {
        None => Err(invalid(word)),
        Some(b'#') => parse_ops(&body[1..]).map(QueryWord::Stack),
        Some(b'-') if body.len() > 1 && !body.contains(&b'=') => {
            Ok(QueryWord::Lacks(body[1..].to_vec()))
        }
        Some(b'<') => pair(&body[1..]).map(|(n, v)| QueryWord::Less(n, v)),
        Some(b'>') => pair(&body[1..]).map(|(n, v)| QueryWord::Greater(n, v)),
        Some(b'=') => pair(&body[1..]).map(|(n, v)| QueryWord::Equals(n, v)),
        Some(_) if body.contains(&b'=') => pair(body).map(|(n, v)| QueryWord::Equals(n, v)),
        Some(_) => Ok(QueryWord::Has(body.to_vec())),
    }
}

fn parse_ops(ops: &[u8]) -> Result<Vec<StackOp>, QueryError> {
    let mut out = Vec::new();
    let mut index: Option<usize> = None;
    for &c in ops {
        if c.is_ascii_digit() {
            let digit = usize::from(c - b'0');
            let next = index
                .unwrap_or(0)
                .checked_mul(10)
                .and_then(|i| i.checked_add(digit))
                .ok_or(QueryError::InvalidOperation(char::from(c)))?;
            index = Some(next);
            continue;
        }
        let after_index = index.take();
        if let Some(i) = after_index {
            out.push(StackOp::Copy(i));
        }
        match c {
            b'.' if after_index.is_some() => {}
            b'.' => out.push(StackOp::Dup),
            b'!' => out.push(StackOp::Not),
            b'&' => out.push(StackOp::And),
            b'|' => out.push(StackOp::Or),
            other => return Err(QueryError::InvalidOperation(char::from(other))),
        }
    }
    if let Some(i) = index {
        out.push(StackOp::Replace(i));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(words: &[&str]) -> Query {
        Query::parse(words.iter().map(|w| w.as_bytes())).expect("valid query")
    }

    fn item<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        pairs.to_vec()
    }

    #[test]
    fn empty_query_matches_everything() {
        assert!(query(&[]).matches(&item(&[])));
        assert!(query(&[]).is_empty());
    }

    #[test]
    fn or_of_two_types_is_the_documented_example() {
        let q = query(&["?type=ether", "?type=vlan", "?#|"]);
        assert!(q.matches(&item(&[("type", "ether")])));
        assert!(q.matches(&item(&[("type", "vlan")])));
        assert!(!q.matches(&item(&[("type", "bridge")])));
        assert!(!q.matches(&item(&[])));
    }

    #[test]
    fn greater_than_empty_selects_non_empty_values() {
        let q = query(&["?>comment="]);
        assert!(q.matches(&item(&[("comment", "uplink")])));
        assert!(!q.matches(&item(&[("comment", "")])));
        assert!(!q.matches(&item(&[])));
    }

    #[test]
    fn negation_builds_not_equal() {
        let q = query(&["?=name=ether1", "?#!"]);
        assert!(!q.matches(&item(&[("name", "ether1")])));
        assert!(q.matches(&item(&[("name", "ether2")])));
    }

    #[test]
    fn and_and_presence() {
        let q = query(&["?running=true", "?disabled", "?#&"]);
        assert!(q.matches(&item(&[("running", "true"), ("disabled", "false")])));
        assert!(!q.matches(&item(&[("running", "true")])));
        let q = query(&["?-comment"]);
        assert!(q.matches(&item(&[("name", "a")])));
        assert!(!q.matches(&item(&[("comment", "")])));
    }

    #[test]
    fn consecutive_words_are_an_implicit_and() {
        let q = query(&["?type=ether", "?running=true"]);
        assert!(q.matches(&item(&[("type", "ether"), ("running", "true")])));
        assert!(!q.matches(&item(&[("type", "ether"), ("running", "false")])));
    }

    #[test]
    fn comparisons_are_numeric_for_integers_else_bytewise() {
        let q = query(&["?<mtu=1500"]);
        assert!(q.matches(&item(&[("mtu", "576")])));
        assert!(!q.matches(&item(&[("mtu", "9000")])));
        // Bytewise "576" > "1500".
        let q = query(&["?>mtu=15x"]);
        assert!(q.matches(&item(&[("mtu", "576")])));
        let q = query(&["?>bytes=-1"]);
        assert!(q.matches(&item(&[("bytes", "0")])));
    }

    #[test]
    fn values_may_contain_equals_signs() {
        let q = query(&["?comment=a=b"]);
        assert!(q.matches(&item(&[("comment", "a=b")])));
        let q = query(&["?=comment=a=b"]);
        assert!(q.matches(&item(&[("comment", "a=b")])));
    }

    #[test]
    fn stack_indices_copy_and_replace() {
        // Push false, true; copy index 1 (the false) then OR with top => false|true.
        assert_eq!(
            parse_ops(b"1.|").unwrap(),
            vec![StackOp::Copy(1), StackOp::Or]
        );
        assert_eq!(parse_ops(b"12").unwrap(), vec![StackOp::Replace(12)]);
        assert_eq!(parse_ops(b".!").unwrap(), vec![StackOp::Dup, StackOp::Not]);
        assert_eq!(
            parse_ops(b"0!").unwrap(),
            vec![StackOp::Copy(0), StackOp::Not]
        );
        // Stack [false(name=b?), true]; replacing the stack with index 0 (true)
        // discards the false.
        let q = query(&["?name=a", "?name=b", "?#0"]);
        assert!(q.matches(&item(&[("name", "b")])));
        assert!(!q.matches(&item(&[("name", "a")])));
        // IN (a, b, c) as libraries build it.
        let q = query(&["?=name=a", "?=name=b", "?=name=c", "?#||"]);
        assert!(q.matches(&item(&[("name", "c")])));
        assert!(!q.matches(&item(&[("name", "d")])));
    }

    #[test]
    fn malformed_queries_are_errors_not_panics() {
        for bad in [
            "?",
            "?=",
            "?<",
            "?>=x",
            "?#x",
            "name=x",
            "?#99999999999999999999999",
        ] {
            assert!(
                Query::parse([bad.as_bytes()]).is_err(),
                "{bad} should not parse"
            );
        }
    }

    #[test]
    fn operations_on_the_infinite_base_never_fail() {
        let q = query(&["?#&&&|||!"]);
        assert!(!q.matches(&item(&[])));
        let q = query(&["?#!!"]);
        assert!(q.matches(&item(&[])));
    }
}
