//! Turning RouterOS byte strings into label text.
//!
//! RouterOS defines no character set: it stores the bytes the admin's client sent,
//! so comments and names arrive as UTF-8, CP1251, CP1252, GBK, … A label must never
//! fail a probe, so valid UTF-8 is kept as is and every byte that is not part of a
//! valid UTF-8 sequence is read as Latin-1 (U+0080–U+00FF). The mapping is lossless
//! (each odd byte becomes one distinct character) and stable across probes, which is
//! what a series identity needs.

use std::borrow::Cow;

/// Converts bytes to text: valid UTF-8 unchanged, other bytes as Latin-1.
pub fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(latin1_fallback(bytes)),
    }
}

fn latin1_fallback(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    while !bytes.is_empty() {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                break;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                // `valid` is valid UTF-8 by construction of `valid_up_to`.
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len()).max(1);
                out.extend(rest[..bad].iter().map(|&b| char::from(b)));
                bytes = &rest[bad..];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_borrowed_unchanged() {
        assert!(matches!(
            lossy("ether1 — uplink".as_bytes()),
            Cow::Borrowed(_)
        ));
        assert_eq!(lossy("апартамент".as_bytes()), "апартамент");
    }

    #[test]
    fn cp1251_bytes_become_latin1() {
        // "апартамент" in CP1251, as WinBox on a Russian PC stores it.
        let cp1251 = [0xE0, 0xEF, 0xE0, 0xF0, 0xF2, 0xE0, 0xEC, 0xE5, 0xED, 0xF2];
        assert_eq!(lossy(&cp1251), "àïàðòàìåíò");
    }

    #[test]
    fn mixed_valid_and_invalid_sequences() {
        let bytes = b"caf\xc3\xa9 \xe9t\xe9 \xba";
        assert_eq!(lossy(bytes), "café été º");
        // Truncated multi-byte sequence at the end.
        assert_eq!(lossy(b"ok\xe2\x82"), "ok\u{e2}\u{82}");
    }
}
