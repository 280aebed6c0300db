//! The `alloc` names std's prelude would give (the crate is `no_std`).

pub(crate) use alloc::borrow::ToOwned;
pub(crate) use alloc::boxed::Box;
pub(crate) use alloc::string::String;
pub(crate) use alloc::vec::Vec;

/// What std's prelude gives tests beyond the above (`vec!`: the library makes its
/// vectors by `Vec::new` and `push`, smaller in the wasm).
#[cfg(test)]
pub(crate) use alloc::vec;
#[cfg(test)]
pub(crate) use std::{format, string::ToString};

/// `[a, b, c].concat()` of string parts by one loop. A trait method on the array is
/// found before the slice's own `concat` (std's generic `join_generic_copy`, with its
/// overflow checks and panic paths): every such call in the crate uses this, 325 B gzip
/// less wasm.
pub(crate) trait Cat {
    fn concat(self) -> String;
}

impl<const N: usize> Cat for [&str; N] {
    fn concat(self) -> String {
        cat(&self)
    }
}

#[inline(never)]
fn cat(parts: &[&str]) -> String {
    // No capacity reserved first: measured +35 B gzip, for strings of a few parts.
    let mut out = String::new();
    for part in parts {
        out.push_str(part);
    }
    out
}

/// `str::trim`: the same characters go (Unicode's White_Space), found by their UTF-8
/// bytes. std's `trim` links a generic `trim_matches`, a reverse UTF-8 decoder and a
/// char-set matcher (about 700 B of wasm); every trim in the crate calls this one.
/// One forward scan: a space's bytes are skipped whole, and any other byte (a
/// character's first or a continuation byte, which starts no space) is kept, so the
/// text kept runs from the first kept byte to the end of the last.
pub(crate) fn trim(text: &str) -> &str {
    let (b, mut i, mut start, mut end) = (text.as_bytes(), 0, 0, 0);
    while i < b.len() {
        match space_len(b.get(i..b.len()).unwrap_or_default()) {
            0 => {
                if end == 0 {
                    start = i;
                }
                i += 1;
                end = i;
            }
            n => i += n,
        }
    }
    // Whole characters went from either end: both are character boundaries.
    text.get(start..end).unwrap_or_default()
}

/// Length of the White_Space character `b` starts with, or 0. Its UTF-8 forms:
/// U+0009..U+000D, U+0020, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029,
/// U+202F, U+205F, U+3000.
fn space_len(b: &[u8]) -> usize {
    match b {
        [9..=13 | b' ', ..] => 1,
        [0xC2, 0x85 | 0xA0, ..] => 2,
        [0xE1, 0x9A, 0x80, ..]
        | [0xE2, 0x80, 0x80..=0x8A | 0xA8 | 0xA9 | 0xAF, ..]
        | [0xE2, 0x81, 0x9F, ..]
        | [0xE3, 0x80, 0x80, ..] => 3,
        _ => 0,
    }
}

/// `core::str::from_utf8(bytes).ok()`: the same bytes are accepted (RFC 3629: no overlong
/// form, no surrogate, nothing above U+10FFFF), checked one character at a time. std's
/// validator (680 B of wasm, with its word-at-a-time ASCII path) was linked for the
/// engine's arguments and a JWT's segments alone. Inlined: the check answers a `bool` in
/// a register (an `Option<&str>` came back through memory to each of its two callers).
#[inline(always)]
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    if is_utf8(bytes) {
        // SAFETY: every character is well formed UTF-8 (`is_utf8` checks the rules
        // `from_utf8` checks; the tests below compare the two on every sequence of up to
        // three bytes and on every four-byte lead).
        Some(unsafe { core::str::from_utf8_unchecked(bytes) })
    } else {
        None
    }
}

/// `utf8`'s check.
fn is_utf8(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&lead) = bytes.get(i) {
        // Eight ASCII bytes a step (no high bit set): decodeJwt's payloads are ASCII.
        if let Some(Ok(word)) = bytes.get(i..i + 8).map(<[u8; 8]>::try_from) {
            if u64::from_le_bytes(word) & 0x8080_8080_8080_8080 == 0 {
                i += 8;
                continue;
            }
        }
        // The continuation bytes that follow and the least code point their count may
        // encode (fewer is an overlong form); 0x80..0xC2 and 0xF5.. start none.
        let (more, least) = match lead {
            0..=0x7F => (0, 0),
            0xC2..=0xDF => (1, 0x80),
            0xE0..=0xEF => (2, 0x800),
            0xF0..=0xF4 => (3, 0x1_0000),
            _ => return false,
        };
        let mut point = u32::from(lead) & (0x7F >> more);
        for _ in 0..more {
            i += 1;
            match bytes.get(i) {
                Some(&next) if next & 0xC0 == 0x80 => point = point << 6 | u32::from(next & 0x3F),
                _ => return false,
            }
        }
        if point < least || point > 0x10_FFFF || (0xD800..0xE000).contains(&point) {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_what_str_trim_trims() {
        // Every character alone, around text, and next to a space of each width.
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            for text in [
                format!("{c}"),
                format!("{c}x{c}"),
                format!(" {c}\u{a0}x\u{3000}{c}\t"),
                format!("\u{2029}{c}{c}"),
            ] {
                assert_eq!(trim(&text), text.trim(), "U+{:04X}", c as u32);
            }
        }
        assert_eq!(trim(""), "");
        assert_eq!(trim(" \u{85}\u{1680}\u{200a}\u{202f}\u{205f}"), "");
    }

    #[test]
    fn utf8_accepts_what_from_utf8_accepts() {
        let same = |bytes: &[u8]| {
            assert_eq!(utf8(bytes), core::str::from_utf8(bytes).ok(), "{bytes:x?}");
        };
        // Every sequence of one and two bytes, every three bytes that start a multi-byte
        // form (or are no lead), and every four-byte lead with every second byte and the
        // edges of the continuation range after it.
        for a in 0..=255u8 {
            same(&[a]);
            for b in 0..=255u8 {
                same(&[a, b]);
                if a >= 0x80 {
                    for c in 0..=255u8 {
                        same(&[a, b, c]);
                    }
                }
                if a >= 0xE0 {
                    for c in [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0xBF, 0xC0, 0xFF] {
                        for d in [0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xFF] {
                            same(&[a, b, c, d]);
                            same(&[b'x', a, b, c, d, b'y']);
                            // Past and within the eight-byte ASCII steps.
                            same(&[b'.', b'.', b'.', b'.', b'.', b'.', b'.', a, b, c, d]);
                            same(&[b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.', a, b, c, d]);
                            same(&[a, b, c, d, b'.', b'.', b'.', b'.', b'.', b'.', b'.', b'.']);
                        }
                    }
                }
            }
        }
        same(b"");
        same(b"eight ascii bytes then \xff");
        same("plain ASCII, Zo\u{eb} \u{674e} \u{1f600} \u{10ffff}".as_bytes());
    }

    #[test]
    fn concat_of_str_parts_is_theirs_in_order() {
        assert_eq!(["a", "", "bc", "é"].concat(), "abcé");
        assert_eq!(<[&str; 0]>::default().concat(), "");
    }
}
