//! A small, strict JSON reader and writer (RFC 8259) for protocol responses, JWT
//! claims and the stored session. It exists so the core can be tested natively
//! without linking serde_json into the wasm (docs/design-notes.md, "Size").
//! Hostile input is bounded: nesting depth is limited and nothing panics.

// ASCII is pushed as one-byte texts (`push_str(",")`), not as chars: `String::push` tests
// its char for UTF-8 encoding first; with object.rs's, the 16 calls cost 25 B gzip more.
#![allow(clippy::single_char_add_str)]

use crate::prelude::*;

use super::float;

/// A parsed JSON value. Objects keep their key order (and duplicates: `get` takes the last).
///
/// Equality only for tests and the fuzz targets: the derived `PartialEq` is 400 B of
/// wasm that a `==` in library code would link (`matches!` tests a value for free), so
/// library code cannot compare values.
#[derive(Debug, Clone)]
#[cfg_attr(any(test, fuzzing), derive(PartialEq))]
pub enum Json {
    Null,
    Bool(bool),
    Num(Number),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

const MAX_DEPTH: usize = 64;

/// A number and its text: as read, or `write_num`'s for one the crate made. Writing
/// gives that text back unchanged, so every number read survives read -> write -> read
/// exactly and its text is stable (a fuzz run found `-11e-11` written as `-0`). A
/// shortest round-trip float formatter with a correctly rounded parser would do the same
/// at a cost of kilobytes of wasm (docs/design-notes.md, "Size"); the text is already
/// validated JSON, and JS reads it (`JSON.parse`) to the same value JSON.stringify
/// started from. One text always (no `Option`): the writer only copies it.
#[derive(Debug, Clone)]
#[cfg_attr(any(test, fuzzing), derive(PartialEq))]
pub struct Number {
    /// Empty for a number skimmed (`skim` keeps none).
    lexeme: String,
}

impl Number {
    /// Read again from its text (the parser's, or `write_num`'s): no `f64` kept beside
    /// it, so a `Json` is 16 bytes, not 24, wherever it is moved. A number the parser
    /// read gives the value it read; one the crate made from a non-finite `f64` (written
    /// `null`, as JSON has no such number) gives NaN.
    pub fn value(&self) -> f64 {
        Parser::new(&self.lexeme, None).number()
    }
}

/// A number the crate computed (an epoch time), its text by `write_num`.
impl From<f64> for Number {
    fn from(value: f64) -> Self {
        let mut lexeme = String::new();
        write_num(&mut lexeme, value);
        Number { lexeme }
    }
}

impl Json {
    pub fn get(&self, key: &str) -> Option<&Json> {
        // The last of duplicate keys wins (as `JSON.parse`). A loop from the end, not
        // `iter().rev().find(..)`.
        let Json::Obj(members) = self else {
            return None;
        };
        let mut i = members.len();
        while i > 0 {
            i -= 1;
            match members.get(i) {
                // `str` with `str`: `&String == &str` goes through `&A == &B`, which
                // takes both by reference (spilled to the stack).
                Some((k, v)) if **k == *key => return Some(v),
                _ => {}
            }
        }
        None
    }

    /// Inlined: its `Option<&str>` would come back through memory.
    #[inline(always)]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Inlined: its `Option<f64>` would come back through memory.
    #[inline(always)]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Num(n) => Some(n.value()),
            _ => None,
        }
    }

    /// A string member, or None when absent or of another type. Inlined: its
    /// `Option<&str>` would come back through memory.
    #[inline(always)]
    pub fn str_of(&self, key: &str) -> Option<&str> {
        // A match, not `Option::map`: no monomorph for one line.
        match self.text_of(key) {
            Some(s) => Some(s),
            None => None,
        }
    }

    /// `str_of`'s reader, out of line: `Option<&String>` is one pointer (0 for none)
    /// returned as a value, so each caller tests one word, not `get`'s answer and the
    /// member's kind.
    #[inline(never)]
    pub fn text_of(&self, key: &str) -> Option<&String> {
        match self.get(key) {
            Some(Json::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// Whether member `key` is `true` (absent, `false` or another kind: no). Out of
    /// line: one call and a `bool` at each of its callers, not `get`'s answer matched.
    #[inline(never)]
    pub fn is_true(&self, key: &str) -> bool {
        matches!(self.get(key), Some(Json::Bool(true)))
    }

    /// Member `key`'s items when it is a list. Out of line, answering one pointer (0
    /// for none) as a value: not `get`'s answer matched at each caller.
    #[inline(never)]
    pub fn list_of(&self, key: &str) -> Option<&Vec<Json>> {
        match self.get(key) {
            Some(Json::Arr(items)) => Some(items),
            _ => None,
        }
    }

    pub fn num_of(&self, key: &str) -> Option<f64> {
        // A match, as `str_of` (no `Option::and_then` with `as_f64`).
        match self.get(key) {
            Some(Json::Num(n)) => Some(n.value()),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Json::Obj(_))
    }

    /// Serialise back to compact JSON text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => out.push_str(&n.lexeme),
            Json::Str(s) => write_str(out, s),
            Json::Arr(items) => {
                out.push_str("[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(",");
                    }
                    item.write(out);
                }
                out.push_str("]");
            }
            Json::Obj(members) => {
                out.push_str("{");
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push_str(",");
                    }
                    write_str(out, k);
                    out.push_str(":");
                    v.write(out);
                }
                out.push_str("}");
            }
        }
    }
}

/// 10^exp by squaring: exact up to 10^22 (every factor is), which covers the numbers
/// in tokens; libm's general `pow` would add 2.5 KB to the wasm.
fn pow10(exp: i32) -> f64 {
    let (mut result, mut base, mut e) = (1.0, 10.0, exp.unsigned_abs());
    while e > 0 {
        if e & 1 == 1 {
            result *= base;
        }
        base *= base;
        e >>= 1;
    }
    if exp < 0 {
        1.0 / result
    } else {
        result
    }
}

/// Written without `core::fmt`'s float machinery (which would add kilobytes to the
/// wasm): integers exactly (every number this crate stores is an epoch time),
/// fractions to 9 decimals, huge magnitudes in exponent form.
pub fn write_num(out: &mut String, n: f64) {
    if !n.is_finite() {
        out.push_str("null");
        return;
    }
    // Integers up to 2^53 are exact in f64 and written in full (fuzzing found
    // 9000002037063323 rounded when the cut-off was 9e15).
    if n.abs() > 9_007_199_254_740_992.0 {
        let mut exp = 0;
        let mut mantissa = n.abs();
        while mantissa >= 10.0 {
            mantissa /= 10.0;
            exp += 1;
        }
        write_num(out, n / pow10(exp));
        out.push_str("e");
        write_int(out, i64::from(exp));
        return;
    }
    if n < 0.0 {
        out.push_str("-");
    }
    let n = n.abs();
    let mut whole = float::trunc(n);
    let mut frac = float::round((n - whole) * 1e9) as i64;
    // A fraction that rounds up to one is a carry into the whole part.
    if frac >= 1_000_000_000 {
        whole += 1.0;
        frac = 0;
    }
    write_int(out, whole as i64);
    if frac > 0 {
        out.push_str(".");
        // Nine places, leading zeros kept, trailing zeros left off.
        let mut places = 9;
        while frac % 10 == 0 {
            frac /= 10;
            places -= 1;
        }
        write_digits(out, frac as u64, places);
    }
}

pub fn write_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push_str("-");
    }
    write_digits(out, n.unsigned_abs(), 1);
}

/// `v` in decimal, zero-padded to `width` digits. Recursive with constant divisors: no
/// digit buffer to index and no division that can fail (no panic path in the wasm).
fn write_digits(out: &mut String, v: u64, width: u32) {
    if v >= 10 || width > 1 {
        write_digits(out, v / 10, width.saturating_sub(1));
    }
    out.push(char::from(b'0' + (v % 10) as u8));
}

/// Append `s` as a JSON string literal. By bytes: only ASCII is escaped, and the runs
/// between escapes are copied whole (no UTF-8 decoding and re-encoding per char).
pub fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\"");
    let bytes = s.as_bytes();
    let mut run = 0;
    // An indexed loop, not `bytes().enumerate()` (smaller in the wasm).
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "\\u00",
            _ => continue,
        };
        // `i - 1` is at an ASCII byte: both ends of the run are char boundaries.
        out.push_str(s.get(run..i - 1).unwrap_or_default());
        run = i;
        out.push_str(escape);
        if b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t') {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    // `..len`: one `str::get` form in the wasm (see url.rs's `origin_authority_len`).
    out.push_str(s.get(run..s.len()).unwrap_or_default());
    out.push_str("\"");
}

/// Parse a whole JSON text (surrounding whitespace allowed). None when it is not JSON.
pub fn parse(text: &str) -> Option<Json> {
    Parser::new(text, None).whole(false)
}

/// `parse`, when the text is an object: the one reader of response bodies, stored
/// values and option objects. Any other text is refused at its first byte (nothing
/// read, built and dropped).
pub fn object(text: &str) -> Option<Json> {
    Parser::new(text, None).whole(true)
}

/// What `skim` read of a member it was asked for (the last one of that name, as `get`
/// takes): a number's value, `NOTHING` (NaN) when absent or `null`, `OTHER` (infinity)
/// for a value of another kind. One `f64`, not an enum of three: no number the reader
/// accepts is NaN or infinite (it refuses one beyond f64), and `skim`'s three answers
/// are 24 bytes, not 48, wherever they are set, compared and moved.
#[derive(Debug, Clone, Copy)]
pub struct Seen(pub f64);

impl Seen {
    pub const NOTHING: Seen = Seen(f64::NAN);
    pub const OTHER: Seen = Seen(f64::INFINITY);
    /// `skim_or_refused`'s mark of a text that is no JSON object (in the first place).
    pub const REFUSED: Seen = Seen(f64::NEG_INFINITY);

    /// How `skim` sees a value `parse` read.
    pub fn of(value: Option<&Json>) -> Seen {
        match value {
            None | Some(Json::Null) => Seen::NOTHING,
            Some(Json::Num(n)) => Seen(n.value()),
            Some(_) => Seen::OTHER,
        }
    }
}

/// By their bits (for tests and the fuzz targets: `NOTHING` equals itself).
impl PartialEq for Seen {
    fn eq(&self, other: &Seen) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

/// The most members `skim` reads (decodeJwt's `exp`, `nbf` and `iat`).
pub const SKIM_KEYS: usize = 3;

/// Checks a whole JSON text exactly as `parse` does, without building it, for the hot
/// path of `decodeJwt` (which hands the text itself to `JSON.parse`): None unless the
/// text is JSON and an object; else the values of the top-level members named in `keys`
/// (up to `SKIM_KEYS`), in their order. Allocates nothing (a key with escapes is read
/// into one string). `skim_or_refused`'s answer as an `Option`.
pub fn skim(text: &str, keys: &[&str]) -> Option<[Seen; SKIM_KEYS]> {
    let seen = skim_or_refused(text, keys);
    (seen[0] != Seen::REFUSED).then_some(seen)
}

/// `skim`, its None as `Seen::REFUSED` first: no `Option` tag set, tested and copied
/// past (jwt's `decode_segment`).
#[inline(always)]
pub fn skim_or_refused(text: &str, keys: &[&str]) -> [Seen; SKIM_KEYS] {
    let mut parser = Parser::new(text, Some(keys));
    if parser.whole(true).is_none() {
        parser.found[0] = Seen::REFUSED;
    }
    parser.found
}

struct Parser<'a, 'k> {
    /// The input, for slices that end at ASCII bytes (char boundaries): `get`, not
    /// `from_utf8` or indexing, so no validation and no panic path in the wasm.
    text: &'a str,
    i: usize,
    /// Skimming: the top-level members to read (`None`: building everything).
    keep: Option<&'k [&'k str]>,
    /// Skimming: what was read of them, in `keep`'s order.
    found: [Seen; SKIM_KEYS],
    /// The last number's value (skimming keeps it for `found`; a `Number` keeps its text).
    number: f64,
}

impl<'a, 'k> Parser<'a, 'k> {
    fn new(text: &'a str, keep: Option<&'k [&'k str]>) -> Self {
        Parser {
            text,
            i: 0,
            keep,
            found: [Seen::NOTHING; SKIM_KEYS],
            number: 0.0,
        }
    }

    /// The text's one value; with `object`, only when it is an object (a value is one
    /// when it starts with `{`).
    fn whole(&mut self, object: bool) -> Option<Json> {
        self.ws();
        if object && self.b().get(self.i).copied() != Some(b'{') {
            return None;
        }
        // The value's `Option` answered as `value` gives it (no copy of it, and no drop
        // here: `value` checks the text's end at depth 0).
        self.value(0)
    }
}

impl<'a> Parser<'a, '_> {
    /// The input's bytes (not a field of their own: one pointer and length less to store).
    fn b(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b().get(self.i) {
            self.i += 1;
        }
    }

    /// Byte by byte: a slice comparison is a call to `memcmp` in the wasm, for literals
    /// mostly one byte long (`:` after every key).
    fn eat(&mut self, lit: &[u8]) -> Option<()> {
        for &c in lit {
            if self.b().get(self.i) != Some(&c) {
                return None;
            }
            self.i += 1;
        }
        Some(())
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        // Every refusal leaves this block: one `None` written into the answer, not one at
        // each of the nine.
        'refused: {
            if depth > MAX_DEPTH {
                break 'refused;
            }
            self.ws();
            let Some(&first) = self.b().get(self.i) else {
                break 'refused;
            };
            let value = match first {
                b'n' if self.eat(b"null").is_some() => Json::Null,
                b't' if self.eat(b"true").is_some() => Json::Bool(true),
                b'f' if self.eat(b"false").is_some() => Json::Bool(false),
                b'"' => {
                    // Read into the value's own text. Skimmed, only its kind matters: a
                    // value with nothing to free.
                    let full = self.keep.is_none();
                    let mut text = String::new();
                    let into = if full { Some(&mut text) } else { None };
                    if self.string(into).is_none() {
                        break 'refused;
                    }
                    if full {
                        Json::Str(text)
                    } else {
                        Json::Bool(false)
                    }
                }
                // Arrays and objects share one loop (an object's member is a key, then a
                // value like an item): one copy of it in the wasm.
                open @ (b'[' | b'{') => {
                    let object = open == b'{';
                    let close = open + 2; // `]` and `}` follow `[` and `{` two places on.
                    self.i += 1;
                    // The value being read, its list grown in place: one value to drop
                    // whatever happens (two lists were each dropped on every exit).
                    let mut list = if object {
                        Json::Obj(Vec::new())
                    } else {
                        Json::Arr(Vec::new())
                    };
                    self.ws();
                    // Every refusal leaves by one exit (`break 'read false`): the list is
                    // dropped in one place, not at each.
                    let read = 'read: {
                        if self.b().get(self.i).copied() != Some(close) {
                            loop {
                                let full = self.keep.is_none();
                                // Skimming: which of the keys asked for this member is.
                                // None of them: an index past `found` (`get_mut` answers None).
                                let mut slot = usize::MAX;
                                if object {
                                    self.ws();
                                    if self.b().get(self.i).copied() != Some(b'"') {
                                        break 'read false;
                                    }
                                    let from = self.i;
                                    // The member goes in first, its key read into it and its
                                    // value (null until read) set below: no key held, and
                                    // dropped at each exit, by this loop.
                                    let mut key = None;
                                    if let (true, Json::Obj(members)) = (full, &mut list) {
                                        members.push((String::new(), Json::Null));
                                        key = members.last_mut().map(|member| &mut member.0);
                                    }
                                    let Some(escaped) = self.string(key) else {
                                        break 'read false;
                                    };
                                    // Skimming (`keep`) at the top level: the keys asked for.
                                    if let (0, Some(keep)) = (depth, self.keep) {
                                        // Compared as written, or read again to compare it
                                        // unescaped (`"e\u0078p"` is `exp`).
                                        let Some(mut name) = self.text.get(from + 1..self.i - 1)
                                        else {
                                            break 'read false;
                                        };
                                        let mut unescaped = String::new();
                                        if escaped {
                                            self.i = from;
                                            if self.string(Some(&mut unescaped)).is_none() {
                                                break 'read false;
                                            }
                                            name = &unescaped;
                                        }
                                        // `str` equality (a call: lengths, then `memcmp`), no
                                        // first byte compared inline before it (17 B gzip;
                                        // decodeJwt measured the same without it). A loop, not
                                        // `position` (unrolled in the wasm).
                                        let mut j = 0;
                                        while let Some(k) = keep.get(j) {
                                            if **k == *name {
                                                slot = j;
                                                break;
                                            }
                                            j += 1;
                                        }
                                    }
                                    self.ws();
                                    if self.eat(b":").is_none() {
                                        break 'read false;
                                    }
                                }
                                // The value's scope ends with this block: one place where it
                                // is dropped when not kept (not one at each of the exits below).
                                {
                                    let Some(value) = self.value(depth + 1) else {
                                        break 'read false;
                                    };
                                    if full {
                                        match &mut list {
                                            // The `Null` pushed with the member's key, replaced
                                            // and forgotten (it owns nothing): no drop call.
                                            Json::Obj(members) => {
                                                if let Some(member) = members.last_mut() {
                                                    core::mem::forget(core::mem::replace(
                                                        &mut member.1,
                                                        value,
                                                    ));
                                                }
                                            }
                                            Json::Arr(items) => items.push(value),
                                            _ => {}
                                        }
                                    } else if let Some(found) = self.found.get_mut(slot) {
                                        // A number's value is the last one read (it holds no
                                        // other).
                                        *found = match &value {
                                            Json::Null => Seen::NOTHING,
                                            Json::Num(_) => Seen(self.number),
                                            _ => Seen::OTHER,
                                        };
                                    }
                                }
                                self.ws();
                                match self.b().get(self.i).copied() {
                                    Some(b',') => self.i += 1,
                                    Some(c) if c == close => break,
                                    _ => break 'read false,
                                }
                            }
                        }
                        true
                    };
                    if !read {
                        break 'refused;
                    }
                    self.i += 1;
                    list
                }
                b'-' | b'0'..=b'9' => {
                    let start = self.i;
                    let value = self.number();
                    if value.is_nan() {
                        break 'refused;
                    }
                    // Skimmed, a number is checked, not kept: its text is not copied.
                    let mut lexeme = String::new();
                    if self.keep.is_none() {
                        // The number's bytes are ASCII: the slice is always there.
                        lexeme.push_str(self.text.get(start..self.i).unwrap_or_default());
                    }
                    self.number = value;
                    Json::Num(Number { lexeme })
                }
                _ => break 'refused,
            };
            // The text's one value (depth 0) ends it, but for whitespace.
            if depth == 0 {
                self.ws();
                if self.i != self.b().len() {
                    break 'refused;
                }
            }
            return Some(value);
        }
        None
    }

    /// The run of digits at `i` as a number; NaN when there is none (a value in a
    /// register, not an `Option` through memory; the caller counts them by `i`).
    fn digits(&mut self) -> f64 {
        let start = self.i;
        let mut value = 0f64;
        while let Some(d @ b'0'..=b'9') = self.b().get(self.i) {
            value = value * 10.0 + f64::from(d - b'0');
            self.i += 1;
        }
        if self.i == start {
            f64::NAN
        } else {
            value
        }
    }

    /// Hand-rolled so the wasm does not link the float parser; exact for integers
    /// up to 2^53, within an ulp or so for fractions (claims are integers). NaN for what
    /// is not a number or is beyond f64 (no number gives NaN): no `Option<f64>`
    /// answered through memory.
    fn number(&mut self) -> f64 {
        let negative = self.eat(b"-").is_some();
        let int_start = self.i;
        // NaN (no digits) carries through to the answer.
        let mut value = self.digits();
        if self.i - int_start > 1 && self.b().get(int_start).copied() == Some(b'0') {
            return f64::NAN;
        }
        if self.eat(b".").is_some() {
            let frac_start = self.i;
            let frac = self.digits();
            let frac_len = i32::try_from(self.i - frac_start).unwrap_or(i32::MAX);
            value += frac / pow10(frac_len);
        }
        if let Some(b'e' | b'E') = self.b().get(self.i) {
            self.i += 1;
            let sign = self.b().get(self.i).copied();
            let exp_negative = sign == Some(b'-');
            if let Some(b'-' | b'+') = sign {
                self.i += 1;
            }
            // NaN (no digits) reads as 0 here: refused by a NaN multiplier instead.
            let exp = self.digits();
            if exp.is_nan() {
                return f64::NAN;
            }
            let exp = exp.min(400.0) as i32;
            value *= pow10(if exp_negative { -exp } else { exp });
        }
        // Beyond f64 (1e400) there is no number to give back; refusing it keeps
        // parse(to_text(v)) == v (found by fuzz/fuzz_targets/json.rs).
        if !value.is_finite() {
            return f64::NAN;
        }
        if negative {
            -value
        } else {
            value
        }
    }

    /// Four hex digits' value, or `u32::MAX` when they are not: no `Option` to return
    /// through memory, and no test of its own (`char::from_u32` and the surrogate ranges
    /// refuse `u32::MAX`).
    fn hex4(&mut self) -> u32 {
        let (mut v, end) = (0u32, self.i + 4);
        // To an end index, not a count of four (which kept the count and the bounds of
        // the input apart in the loop).
        while self.i < end {
            // A match, not `char::to_digit(16)` (a general radix conversion).
            // A letter `| 0x20` is one of `a..=f` for `A..=F` and `a..=f` only.
            let d = match self.b().get(self.i) {
                Some(&d @ b'0'..=b'9') => d - b'0',
                Some(&d) if (d | 0x20).wrapping_sub(b'a') < 6 => (d | 0x20) - b'a' + 10,
                _ => return u32::MAX,
            };
            v = v * 16 + u32::from(d);
            self.i += 1;
        }
        v
    }

    /// Reads a string literal: appended to `into` when there is one, else only checked.
    /// Answers whether it held an escape. No text of the parser's own to take each one
    /// from: the reader's string goes straight into the value or key it becomes, and a
    /// `Parser` owns nothing to drop (`Number::value`, `parse`, the skimmer).
    fn string(&mut self, mut into: Option<&mut String>) -> Option<bool> {
        self.i += 1; // opening quote
        let mut any_escape = false;
        loop {
            // The run to the next quote, escape or control byte, on a local index (the
            // hottest loop of decodeJwt).
            let (start, mut i) = (self.i, self.i);
            while let Some(&c) = self.b().get(i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                i += 1;
            }
            self.i = i;
            // The run stops at an ASCII byte (or the end): a char boundary, so the slice is
            // always there (no refusal to write for it).
            if let Some(text) = &mut into {
                text.push_str(self.text.get(start..i).unwrap_or_default());
            }
            let escaped = match *self.b().get(i)? {
                b'"' => {
                    self.i += 1;
                    return Some(any_escape);
                }
                b'\\' => {
                    any_escape = true;
                    self.i += 1;
                    let esc = *self.b().get(self.i)?;
                    self.i += 1;
                    match esc {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4();
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                self.eat(b"\\u")?;
                                let lo = self.hex4();
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code)?
                        }
                        _ => return None,
                    }
                }
                _ => return None, // control character
            };
            if let Some(text) = &mut into {
                text.push(escaped);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_readers_answer_only_their_kind() {
        // The last of duplicate keys, as `get`; any other kind, or none, is None/false.
        let v = parse(r#"{"t":true,"f":false,"s":"x","l":[1,"a"],"n":null,"t2":"true","s":"y"}"#)
            .unwrap();
        assert!(v.is_true("t"));
        for key in ["f", "s", "l", "n", "t2", "absent"] {
            assert!(!v.is_true(key), "{key}");
        }
        assert_eq!(v.text_of("s").map(String::as_str), Some("y"));
        assert_eq!(v.str_of("s"), Some("y"));
        for key in ["t", "l", "n", "absent"] {
            assert_eq!(v.text_of(key), None, "{key}");
            assert_eq!(v.str_of(key), None, "{key}");
        }
        for key in ["t", "s", "n", "absent"] {
            assert_eq!(v.list_of(key), None, "{key}");
        }
        assert_eq!(v.list_of("l").map(Vec::len), Some(2));
        // Not an object: nothing to read.
        let list = parse("[true]").unwrap();
        assert!(!list.is_true("0"));
        assert_eq!(list.text_of("0"), None);
        assert_eq!(list.list_of("0"), None);
    }

    #[test]
    fn integers_up_to_2_pow_53_are_written_exactly() {
        // Fuzzing regression: 9000002037063323 came back as 9000002037000000.
        for n in [
            9_000_002_037_063_323.0,
            9_007_199_254_740_992.0,
            -9_007_199_254_740_991.0,
        ] {
            let text = Json::Num(n.into()).to_text();
            assert_eq!(parse(&text).and_then(|v| v.as_f64()), Some(n), "{text}");
        }
    }

    #[test]
    fn numbers_beyond_f64_are_refused() {
        // Fuzzing regression: "42e440" read as infinity and wrote back as null.
        for text in ["42e440", "-1e999", "[1e309]", r#"{"exp":1e400}"#] {
            assert_eq!(parse(text), None, "{text}");
        }
        assert!(parse("1e308")
            .and_then(|v| v.as_f64())
            .is_some_and(f64::is_finite));
    }

    #[test]
    fn every_number_read_is_written_back_as_it_was() {
        // Fuzzing regression (stored_session): -11e-11 was written as -0 and read back as 0.
        for text in [
            "-11e-11",
            "1.5E+3",
            "0.1",
            "-0",
            "-0.0",
            "5e-324",
            "1e308",
            "123456789012345678901234567890",
            "0.30000000000000004",
        ] {
            let value = parse(text).unwrap();
            assert_eq!(value.to_text(), text);
            assert_eq!(parse(&value.to_text()), Some(value), "{text}");
        }
        let user = parse(r#"{"a":-11e-11}"#).unwrap();
        assert_eq!(user.to_text(), r#"{"a":-11e-11}"#);
        assert!(user.num_of("a").is_some_and(|a| a < 0.0 && a > -1e-9));
    }

    #[test]
    fn powers_of_ten_are_exact_where_doubles_can_be() {
        let mut expected = 1.0;
        for e in 0..=22 {
            assert_eq!(pow10(e), expected, "10^{e}");
            assert_eq!(pow10(-e), 1.0 / expected, "10^-{e}");
            expected *= 10.0;
        }
        assert_eq!(parse("1e22").unwrap().as_f64(), Some(1e22));
        assert_eq!(parse("25e-1").unwrap().as_f64(), Some(2.5));
        assert_eq!(Json::Num(1.5e20.into()).to_text(), "1.5e20");
    }

    #[test]
    fn parses_every_kind_of_value() {
        let v = parse(r#" {"a": [1, -2.5, 3e2, true, false, null], "b": {"c": "d"}} "#).unwrap();
        let Some(Json::Arr(items)) = v.get("a") else {
            panic!("not an array: {v:?}");
        };
        let numbers: Vec<_> = items[..3].iter().map(Json::as_f64).collect();
        assert_eq!(numbers, [Some(1.0), Some(-2.5), Some(300.0)]);
        assert_eq!(
            items[3..],
            [Json::Bool(true), Json::Bool(false), Json::Null]
        );
        assert_eq!(v.get("b").and_then(|b| b.str_of("c")), Some("d"));
    }

    #[test]
    fn decodes_escapes_and_surrogate_pairs() {
        let v = parse(r#""a\"b\\c\/\n\u00e9\ud83d\ude00""#).unwrap();
        assert_eq!(v.as_str(), Some("a\"b\\c/\né😀"));
        assert_eq!(
            parse(r#""\u00E9\uD83D\uDE00\uaBcD""#),
            parse(r#""é😀\uabcd""#)
        );
        for bad in [
            r#""\u00g0""#,
            r#""\u00:0""#,
            r#""\u00@0""#,
            r#""\u00`0""#,
            r#""\u12""#,
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        // Every ASCII byte as the third digit: a hex digit of either case, or refused.
        for b in 0x20..0x7Fu8 {
            let text = format!(r#""\u00{}0""#, char::from(b));
            assert_eq!(parse(&text).is_some(), b.is_ascii_hexdigit(), "{text}");
        }
        assert_eq!(parse(r#""\ud83d""#), None, "lone surrogate");
        assert_eq!(parse(r#""\ud83dx""#), None);
    }

    #[test]
    fn rejects_what_is_not_json() {
        for bad in [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "{\"a\":1,}",
            "{'a':1}",
            "01",
            "1.",
            "-",
            // A number's parts without digits (each refused by `digits`' NaN or the
            // exponent's own test), skimmed as parsed.
            "-.5",
            ".5",
            "1.e5",
            "1e",
            "1e+",
            "-e5",
            "[1E-]",
            "{\"exp\":1e}",
            "tru",
            "nul",
            "\"unterminated",
            "\"tab\there\"",
            "{\"a\" 1}",
            "[1 2]",
            "<!doctype html>",
            "1 2",
            "NaN",
            "{\"a\":1}x",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
            assert_eq!(skim(bad, &["exp"]), None, "{bad:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert_eq!(parse(&deep), None);
        let ok = format!("{}{}", "[".repeat(60), "]".repeat(60));
        assert!(parse(&ok).is_some());
    }

    #[test]
    fn numbers_are_exact_for_epoch_times() {
        assert_eq!(parse("1795565944").unwrap().as_f64(), Some(1_795_565_944.0));
        assert_eq!(
            parse("9007199254740991").unwrap().as_f64(),
            Some(9_007_199_254_740_991.0)
        );
        assert_eq!(parse("-0").unwrap().as_f64(), Some(0.0));
        assert_eq!(parse("1.5e3").unwrap().as_f64(), Some(1500.0));
    }

    #[test]
    fn integers_are_written_in_full() {
        for (n, text) in [
            (0, "0"),
            (7, "7"),
            (-10, "-10"),
            (1_000_000_007, "1000000007"),
            (i64::MAX, "9223372036854775807"),
            (i64::MIN, "-9223372036854775808"),
        ] {
            let mut out = String::new();
            write_int(&mut out, n);
            assert_eq!(out, text);
        }
        for (n, text) in [(0.05, "0.05"), (1.000000001, "1.000000001"), (-0.5, "-0.5")] {
            assert_eq!(Json::Num(n.into()).to_text(), text);
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        for c in (0u8..0x20).map(char::from) {
            let mut out = String::new();
            write_str(&mut out, &c.to_string());
            let expected = match c {
                '\n' => "\"\\n\"".to_owned(),
                '\r' => "\"\\r\"".to_owned(),
                '\t' => "\"\\t\"".to_owned(),
                _ => format!("\"\\u{:04x}\"", c as u32),
            };
            assert_eq!(out, expected);
            assert_eq!(
                parse(&out).and_then(|v| v.as_str().map(str::to_owned)),
                Some(c.to_string())
            );
        }
    }

    #[test]
    fn skimming_reads_the_members_asked_for_without_building_the_rest() {
        let text = r#"{"exp":1,"x":{"exp":2},"e\u0078p":3.5,"nbf":"soon","iat":[1],"sub":null}"#;
        let [exp, nbf, iat] = skim(text, &["exp", "nbf", "iat"]).unwrap();
        // The last top-level `exp` (an escaped key is the same key); nested ones are not.
        assert_eq!(exp, Seen(3.5));
        assert_eq!((nbf, iat), (Seen::OTHER, Seen::OTHER));
        assert_eq!(skim(r#"{"sub":null}"#, &["sub"]).unwrap()[0], Seen::NOTHING);
        assert_eq!(skim(r#"{"sub":{}}"#, &["sub"]).unwrap()[0], Seen::OTHER);
        assert_eq!(skim("{}", &["exp"]).unwrap(), [Seen::NOTHING; SKIM_KEYS]);
        for not_an_object in [
            "[1]",
            "1",
            r#""exp""#,
            "null",
            r#"{"exp":1"#,
            r#"{"exp":1}x"#,
        ] {
            assert_eq!(skim(not_an_object, &["exp"]), None, "{not_an_object}");
        }
    }

    #[test]
    fn object_reads_objects_only() {
        assert_eq!(object(" \n{\"a\":[1]} "), parse(r#"{"a":[1]}"#));
        for not_an_object in ["", " ", "[{}]", "1", r#""{}""#, "null", "{}x", "{", " }"] {
            assert_eq!(object(not_an_object), None, "{not_an_object:?}");
        }
    }

    #[test]
    fn each_key_and_text_is_read_on_its_own() {
        // Read straight into the key or value each becomes (no string of the parser's
        // own): nothing of one carries into the next, escaped or not, nested or not.
        let v = parse(r#"{"ab\n":"c\u00e9","d":["e","",{"f":"g\"h"}],"":"i"}"#).unwrap();
        let Json::Obj(members) = &v else {
            panic!("not an object: {v:?}");
        };
        let keys: Vec<_> = members.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["ab\n", "d", ""]);
        assert_eq!(v.str_of("ab\n"), Some("cé"));
        assert_eq!(v.str_of(""), Some("i"));
        let items = v.list_of("d").unwrap();
        assert_eq!(
            items[..2],
            [Json::Str("e".into()), Json::Str(String::new())]
        );
        assert_eq!(items[2].str_of("f"), Some("g\"h"));
        assert_eq!(
            v.to_text(),
            r#"{"ab\n":"cé","d":["e","",{"f":"g\"h"}],"":"i"}"#
        );
    }

    #[test]
    fn duplicate_keys_take_the_last() {
        assert_eq!(parse(r#"{"a":1,"a":2}"#).unwrap().num_of("a"), Some(2.0));
    }

    #[test]
    fn writes_what_it_reads() {
        let text = r#"{"s":"q\"\\\n\u0001é","n":-12,"f":0.5,"a":[null,true],"o":{}}"#;
        let v = parse(text).unwrap();
        assert_eq!(parse(&v.to_text()).unwrap(), v);
        assert_eq!(
            v.to_text(),
            r#"{"s":"q\"\\\n\u0001é","n":-12,"f":0.5,"a":[null,true],"o":{}}"#
        );
        for (n, text) in [
            (0.125, "0.125"),
            (-3.5, "-3.5"),
            (1e20, "1e20"),
            (2.0000000001, "2"),
            (0.9999999999, "1"),
        ] {
            assert_eq!(Json::Num(n.into()).to_text(), text);
        }
    }
}
