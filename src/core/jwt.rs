//! JWT decoding (no signature check: the secret never reaches the browser; the
//! backend verifies) and the time checks on `exp`/`nbf`, with leeway.

use crate::prelude::*;

use super::error::{AuthError, ErrorCode};
use super::float;
use super::json::{self, Seen, SKIM_KEYS};

/// Tokens longer than this are refused before any work (a JWT is a few hundred bytes).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// What to subtract from each byte (wrapping) for its base64url value (RFC 4648 5): one
/// load and a subtraction a character, no bounds check (a `u8` indexes 256 entries) and
/// no branches on ranges. An offset per range rather than the values themselves: long
/// runs of one byte, which gzip stores in a few bytes (a table of values cost ~70 B). A
/// byte outside the alphabet comes out at 64 or more (`b + 64` below 64, itself above).
static BASE64URL_OFFSET: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 64 {
        table[b] = 0xC0;
        b += 1;
    }
    let mut i = 0;
    while i < 26 {
        table[b'A' as usize + i] = b'A';
        table[b'a' as usize + i] = b'a' - 26;
        if i < 10 {
            table[b'0' as usize + i] = b'0'.wrapping_sub(52);
        }
        i += 1;
    }
    table[b'-' as usize] = b'-'.wrapping_sub(62);
    table[b'_' as usize] = b'_' - 63;
    table
};

/// The byte's base64url value, or 64 and more for a byte outside the alphabet.
fn base64url_value(byte: u8) -> u8 {
    byte.wrapping_sub(BASE64URL_OFFSET[usize::from(byte)])
}

/// Set in a value for a byte outside the alphabet, in none of the alphabet's.
const INVALID: u8 = 0xC0;

/// base64url (RFC 4648 5), with or without `=` padding (some issuers pad), decoded in
/// place: the bytes of `buf[start..end]` are replaced from the buffer's start on (the
/// output never overtakes the input) by what they encode, and its length is returned.
/// Hand-written: the base64 crate's general engine costs ~3 KB of wasm for the one
/// alphabet a JWT uses. Non-canonical trailing bits are refused, as it does.
fn base64url_decode_in_place(buf: &mut [u8], start: usize, end: usize) -> Option<usize> {
    let mut end = end;
    while end > start && buf.get(end - 1).copied() == Some(b'=') {
        end -= 1;
    }
    if (end - start) % 4 == 1 {
        return None;
    }
    let (mut i, mut out) = (start, 0);
    // Four characters to three bytes a step (decodeJwt's hottest loop): one bounds check
    // for the group read, one for the bytes written, and one test of the four values'
    // high bits for all of them.
    while end - i >= 4 {
        let group = buf.get(i..i + 4)?;
        let (a, b, c, d) = match *group {
            [a, b, c, d] => (a, b, c, d),
            _ => return None,
        };
        let (a, b, c, d) = (
            base64url_value(a),
            base64url_value(b),
            base64url_value(c),
            base64url_value(d),
        );
        if (a | b | c | d) & INVALID != 0 {
            return None;
        }
        let n = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        if let [x, y, z] = buf.get_mut(out..out + 3)? {
            *x = (n >> 16) as u8;
            *y = (n >> 8) as u8;
            *z = n as u8;
        }
        i += 4;
        out += 3;
    }
    // The last two or three characters (one or two bytes) by the bit accumulator.
    let (mut acc, mut bits) = (0u32, 0u32);
    while i < end {
        let v = base64url_value(*buf.get(i)?);
        if v & INVALID != 0 {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *buf.get_mut(out)? = (acc >> bits) as u8;
            out += 1;
            acc &= (1 << bits) - 1;
        }
        i += 1;
    }
    (acc == 0).then_some(out)
}

/// Eight dots, eight ones and eight high bits, for the dot scan's eight-byte steps.
const DOTS: u64 = 0x2e2e_2e2e_2e2e_2e2e;
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The claims the client acts on, plus the payload's JSON text for the snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
    pub iat: Option<i64>,
    pub sub: Option<String>,
    /// The payload object as JSON text (parsed into a JS object by the shell).
    pub json: String,
}

fn invalid(message: &str) -> AuthError {
    AuthError::new(ErrorCode::InvalidToken, message)
}

/// The one text for a segment that is not base64url, not UTF-8 or not a JSON object:
/// callers act on the code, and one text is one copy in the wasm's data.
const MALFORMED_SEGMENT: &str = "Token segment is not a base64url JSON object";

/// The time claims every decoding checks (`decode_in_place` answers them in this order).
const TIME_CLAIMS: &[&str] = &["exp", "nbf", "iat"];

/// The segment `buf[start..end]` decoded in place to the buffer's start, which must be a
/// JSON object in UTF-8: its time claims as skimmed (`json::skim`), and its text. None
/// for the three ways to fail: `decode_in_place` makes the one error.
fn decode_segment(buf: &mut [u8], start: usize, end: usize) -> Option<([Seen; SKIM_KEYS], &str)> {
    if let Some(len) = base64url_decode_in_place(buf, start, end) {
        let buf: &[u8] = buf;
        if let Some(text) = buf.get(..len).and_then(utf8) {
            let seen = json::skim_or_refused(text, TIME_CLAIMS);
            if seen[0].0 != Seen::REFUSED.0 {
                return Some((seen, text));
            }
        }
    }
    None
}

/// A time claim as `decode_in_place` answers it (absent or a number), in whole seconds:
/// NumericDate claims may be fractional (RFC 7519 2); we act on whole seconds. Converted
/// where used, not into an array of its own in `decode_in_place` (its loop, and the
/// claims copied twice more through memory). Inlined: its `Option<i64>` would come back
/// through memory.
#[inline(always)]
pub fn seconds(claim: Seen) -> Option<i64> {
    // A number is finite (the reader refuses one beyond f64); `NOTHING` and `OTHER`
    // are not.
    if claim.0.is_finite() {
        Some(float::floor(claim.0) as i64)
    } else {
        None
    }
}

/// Decode a compact JWS (`header.payload.signature`).
pub fn decode(token: &str) -> Result<Claims, AuthError> {
    let mut buf = token.as_bytes().to_vec();
    let ([exp, nbf, iat], text) = decode_in_place(&mut buf)?;
    // Judged by `decode_in_place`; read in full for `sub` and the text.
    let payload = json::parse(text).ok_or_else(|| invalid(MALFORMED_SEGMENT))?;
    Ok(Claims {
        exp: seconds(exp),
        nbf: seconds(nbf),
        iat: seconds(iat),
        sub: payload.str_of("sub").map(str::to_owned),
        json: payload.to_text(),
    })
}

/// A token over `MAX_TOKEN_LEN` bytes is refused with this before any work.
pub fn too_long() -> AuthError {
    invalid(TOO_LONG)
}

const TOO_LONG: &str = "Token is too long";

/// The one judge of a token, for `decode` and for the wasm's fast `decodeJwt` (which
/// hands the payload's own text to `JSON.parse`, src/web/functions.rs): `buf` holds the
/// token's bytes; on success its payload's JSON text is left at the buffer's start and
/// returned with its time claims `[exp, nbf, iat]`, each absent or a number (`seconds`). The payload is checked without being
/// built (`json::skim`), so every caller accepts exactly the same tokens.
pub fn decode_in_place(buf: &mut [u8]) -> Result<([Seen; SKIM_KEYS], &str), AuthError> {
    // Every refusal leaves this block with its message: one error made, and written
    // into the answer, in one place (not at each of the four).
    let message = 'refused: {
        if buf.len() > MAX_TOKEN_LEN {
            break 'refused TOO_LONG;
        }
        // The two dots, by a plain scan (an iterator chain here is three functions).
        let (mut dots, mut first, mut second) = (0, 0, 0);
        // Indexed below its length (no bounds check), not `iter().enumerate()`.
        let mut i = 0;
        while i < buf.len() {
            // Eight bytes a step while none of them is a dot (a token is mostly
            // base64url): a byte of `word ^ DOTS` is zero where there is one, and then
            // `x - ONES` has a high bit set (so do bytes above 0x80, which no valid token
            // has: they take the byte-by-byte path below, as a dot does).
            if let Some(Ok(word)) = buf.get(i..i + 8).map(<[u8; 8]>::try_from) {
                let x = u64::from_le_bytes(word) ^ DOTS;
                if x.wrapping_sub(ONES) & HIGHS == 0 {
                    i += 8;
                    continue;
                }
            }
            if buf[i] == b'.' {
                match dots {
                    0 => first = i,
                    1 => second = i,
                    _ => {}
                }
                dots += 1;
            }
            i += 1;
        }
        if dots != 2 {
            break 'refused "Token does not have three segments";
        }
        // The header only has to be an object (its time claims, if any, are not the
        // token's).
        if decode_segment(buf, 0, first).is_none() {
            break 'refused MALFORMED_SEGMENT;
        }
        let Some((seen, text)) = decode_segment(buf, first + 1, second) else {
            break 'refused MALFORMED_SEGMENT;
        };
        // One refusal for the three claims.
        let [exp, nbf, iat] = seen;
        if exp.0 == Seen::OTHER.0 || nbf.0 == Seen::OTHER.0 || iat.0 == Seen::OTHER.0 {
            break 'refused "Token time claim is not a number";
        }
        return Ok((seen, text));
    };
    Err(invalid(message))
}

/// `is_expired_at` for the token in `buf` (see `decode_in_place`); a malformed token
/// counts as expired: it can never be used.
pub fn is_expired_in_place(buf: &mut [u8], now: i64, leeway: i64) -> bool {
    match decode_in_place(buf) {
        Ok(([exp, ..], _)) => seconds(exp).is_some_and(|exp| now >= exp.saturating_add(leeway)),
        Err(_) => true,
    }
}

/// Whether a token looks like a JWT at all (opaque tokens are used as given).
pub fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|&b| b == b'.').count() == 2 && token.starts_with("eyJ")
}

/// Expired at `now` (seconds) given `leeway` seconds of tolerance. A token
/// without `exp` never expires by its claims.
pub fn is_expired_at(claims: &Claims, now: i64, leeway: i64) -> bool {
    claims
        .exp
        .is_some_and(|exp| now >= exp.saturating_add(leeway))
}

/// Not yet valid at `now`: `nbf` further in the future than the leeway.
pub fn is_premature_at(claims: &Claims, now: i64, leeway: i64) -> bool {
    claims
        .nbf
        .is_some_and(|nbf| now.saturating_add(leeway) < nbf)
}

#[cfg(test)]
mod tests {
    use super::*;

    use base64::Engine;

    fn base64url_decode(text: &str) -> Option<Vec<u8>> {
        let mut buf = text.as_bytes().to_vec();
        let end = buf.len();
        let len = base64url_decode_in_place(&mut buf, 0, end)?;
        buf.truncate(len);
        Some(buf)
    }

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    fn token(payload: &str) -> String {
        format!(
            "{}.{}.sig",
            b64(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64(payload)
        )
    }

    #[test]
    fn decodes_standard_claims() {
        let c = decode(&token(
            r#"{"sub":"42","exp":2000,"nbf":1000,"iat":999,"email":"a@b.c"}"#,
        ))
        .unwrap();
        assert_eq!(
            (c.exp, c.nbf, c.iat, c.sub.as_deref()),
            (Some(2000), Some(1000), Some(999), Some("42"))
        );
        assert_eq!(
            c.json,
            r#"{"sub":"42","exp":2000,"nbf":1000,"iat":999,"email":"a@b.c"}"#
        );
    }

    #[test]
    fn accepts_padding_and_the_url_safe_alphabet() {
        // "?>" and "~~" encode to "Pz4" and "fn4": url-safe bytes '-' and '_' come from
        // payloads whose standard encoding has '+' or '/'.
        let payload = r#"{"sub":"??>>~~","n":"ÿ"}"#;
        let unpadded = b64(payload);
        assert!(
            unpadded.contains('-') || unpadded.contains('_'),
            "{unpadded}"
        );
        let padded = base64::engine::general_purpose::URL_SAFE.encode(payload);
        let header = b64(r#"{"alg":"HS256"}"#);
        for p in [&unpadded, &padded] {
            let c = decode(&format!("{header}.{p}.s")).unwrap();
            assert_eq!(c.sub.as_deref(), Some("??>>~~"));
        }
        let standard = base64::engine::general_purpose::STANDARD_NO_PAD.encode(payload);
        assert!(
            decode(&format!("{header}.{standard}.s")).is_err(),
            "+ and / are not base64url"
        );
    }

    #[test]
    fn decoder_matches_the_base64_crate() {
        use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
        let mut seed = 7u32;
        for len in 0..200 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (seed >> 16) as u8
                })
                .collect();
            assert_eq!(
                base64url_decode(&URL_SAFE_NO_PAD.encode(&bytes)),
                Some(bytes.clone())
            );
            assert_eq!(base64url_decode(&URL_SAFE.encode(&bytes)), Some(bytes));
        }
        for bad in ["A", "AAAAA", "a+b/", "ab c", "QR", "QV=="] {
            let ours = base64url_decode(bad);
            let theirs = base64::engine::GeneralPurpose::new(
                &base64::alphabet::URL_SAFE,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
            )
            .decode(bad)
            .ok();
            assert_eq!(ours, theirs, "{bad}");
        }
    }

    #[test]
    fn every_byte_has_its_alphabet_value_or_is_refused() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for byte in 0..=255u8 {
            let value = base64url_value(byte);
            match alphabet.iter().position(|&c| c == byte) {
                Some(index) => assert_eq!(usize::from(value), index, "{byte}"),
                None => assert_ne!(value & INVALID, 0, "{byte}"),
            }
        }
    }

    /// The decoder before the table and the four-character steps (a character a step,
    /// its value by ranges), the reference for what the decoder accepts: the same as the
    /// base64 crate, except that any run of trailing `=` is taken as padding.
    fn reference_decode(text: &str) -> Option<Vec<u8>> {
        let bytes = text.trim_end_matches('=').as_bytes();
        if bytes.len() % 4 == 1 {
            return None;
        }
        let (mut acc, mut bits, mut out) = (0u32, 0u32, Vec::new());
        for &b in bytes {
            let v = match b {
                b'A'..=b'Z' => b - b'A',
                b'a'..=b'z' => b - b'a' + 26,
                b'0'..=b'9' => b - b'0' + 52,
                b'-' => 62,
                b'_' => 63,
                _ => return None,
            };
            acc = (acc << 6) | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        (acc == 0).then_some(out)
    }

    #[test]
    fn any_text_decodes_as_before_and_as_the_base64_crate() {
        use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
        let crate_decoder = GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
        );
        // Texts of every length mod 4, mostly of the alphabet, with a stray byte or
        // padding now and then (at each position of a group, the tail's too).
        let mut seed = 11u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            seed >> 16
        };
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for _ in 0..50_000 {
            let len = (next() % 40) as usize;
            let text: String = (0..len)
                .map(|_| match next() % 64 {
                    0 => char::from((next() % 128) as u8),
                    1 => '=',
                    _ => char::from(alphabet[(next() % 64) as usize]),
                })
                .collect();
            let ours = base64url_decode(&text);
            assert_eq!(ours, reference_decode(&text), "{text:?}");
            if !text.contains('=') {
                assert_eq!(ours, crate_decoder.decode(&text).ok(), "{text:?}");
            }
        }
    }

    #[test]
    fn in_place_leaves_the_payload_text_as_sent() {
        let payload = r#"{ "sub":"42", "exp": 1e3, "r": 0.12345678912345, "n":"Zoë 😀" }"#;
        let mut buf = token(payload).into_bytes();
        let (times, text) = decode_in_place(&mut buf).unwrap();
        assert_eq!(
            (times, text),
            ([Seen(1000.0), Seen::NOTHING, Seen::NOTHING], payload)
        );
        assert!(buf.starts_with(payload.as_bytes()));
        for bad in [
            "[1]",
            r#"{"exp":"soon"}"#,
            r#"{"nbf":true}"#,
            "{",
            r#"{"a":[1e400]}"#,
        ] {
            let mut buf = token(bad).into_bytes();
            assert!(decode_in_place(&mut buf).is_err(), "{bad}");
        }
        assert!(decode_in_place(&mut vec![b'.'; MAX_TOKEN_LEN + 1]).is_err());
        assert!(is_expired_in_place(
            &mut token(r#"{"exp":1000}"#).into_bytes(),
            1000,
            0
        ));
        assert!(!is_expired_in_place(
            &mut token(r#"{"exp":1000}"#).into_bytes(),
            999,
            0
        ));
        assert!(!is_expired_in_place(
            &mut token(r#"{"exp":1000}"#).into_bytes(),
            1029,
            30
        ));
        assert!(!is_expired_in_place(
            &mut token(r#"{"sub":"x"}"#).into_bytes(),
            i64::MAX,
            0
        ));
        assert!(is_expired_in_place(&mut b"garbage".to_vec(), 0, 0));
    }

    #[test]
    fn keeps_unicode_claims() {
        let c = decode(&token(r#"{"sub":"1","name":"Zoë 李 😀","exp":5}"#)).unwrap();
        assert!(c.json.contains("Zoë 李 😀"));
    }

    #[test]
    fn refuses_wrong_segment_counts() {
        let good = token(r#"{"sub":"1"}"#);
        let parts: Vec<&str> = good.split('.').collect();
        for bad in [
            parts[0].to_string(),
            parts[..2].join("."),
            format!("{good}.extra"),
            format!("{good}.a.b"),
        ] {
            assert_eq!(
                decode(&bad).unwrap_err().code,
                ErrorCode::InvalidToken,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_dot_too_many_is_the_refusal_that_counts() {
        let good = token(r#"{"sub":"1"}"#);
        let (h, rest) = good.split_once('.').unwrap();
        let p = rest.split('.').next().unwrap();
        // Whatever else is wrong, a token with a third dot does not have three segments.
        for bad in [
            format!("!!.{p}.s.x"),
            format!("{h}.{p}.s.x"),
            format!("{h}.!{p}.s.x"),
            format!("{h}.{p}!.s.x"),
            format!("{h}.{p}=.s.x"),
            format!("{h}.a.b.c"),
            format!("{h}.{p}.s."),
            format!(".{p}.s.x"),
            format!("{h}..."),
        ] {
            let error = decode(&bad).unwrap_err();
            assert_eq!(error.message, "Token does not have three segments", "{bad}");
        }
        // Two dots: the segment's own refusal.
        for bad in [
            format!("!!.{p}.s"),
            format!("{h}.!{p}.s"),
            format!("{h}..s"),
        ] {
            assert_eq!(
                decode(&bad).unwrap_err().message,
                MALFORMED_SEGMENT,
                "{bad}"
            );
        }
    }

    #[test]
    fn the_dots_are_counted_wherever_they_fall_in_the_eight_byte_steps() {
        // Every placement of one to three dots in texts of up to 40 bytes, among bytes
        // next to '.' in value (and '.' with its high bit set): the refusal for a count
        // other than two comes exactly when the count is not two.
        let mut seed = 5u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            seed >> 16
        };
        let fill = [b'-', b'/', b'-', b'A', 0xAE, 0x2F, 0x0E, b'e'];
        for _ in 0..20_000 {
            let len = (next() % 41) as usize;
            let mut buf: Vec<u8> = (0..len).map(|_| fill[(next() % 8) as usize]).collect();
            for _ in 0..(next() % 4) {
                if len > 0 {
                    buf[(next() as usize) % len] = b'.';
                }
            }
            let dots = buf.iter().filter(|&&b| b == b'.').count();
            let refused_for_the_count = decode_in_place(&mut buf)
                .is_err_and(|e| e.message == "Token does not have three segments");
            assert_eq!(refused_for_the_count, dots != 2, "{dots} dots");
        }
        // And with two, the segments are where the dots say, at every offset of the
        // first dot in an eight-byte step (headers of 8 to 23 characters).
        for pad in 0..12 {
            let header = b64(&format!(r#"{{"a":"{}"}}"#, "x".repeat(pad)));
            let mut buf = format!("{header}.{}.sig", b64(r#"{"exp":7}"#)).into_bytes();
            let (times, text) = decode_in_place(&mut buf).unwrap();
            assert_eq!(
                (times, text),
                ([Seen(7.0), Seen::NOTHING, Seen::NOTHING], r#"{"exp":7}"#),
                "{pad}"
            );
        }
    }

    #[test]
    fn refuses_non_json_and_non_object_payloads() {
        for payload in ["not json", "[1,2]", "42", r#""s""#, "{\"exp\":\"soon\"}"] {
            assert_eq!(
                decode(&token(payload)).unwrap_err().code,
                ErrorCode::InvalidToken,
                "{payload}"
            );
        }
        let bad_header = format!("{}.{}.s", b64("nope"), b64("{}"));
        assert!(decode(&bad_header).is_err());
        assert!(decode("a.!!!.c").is_err());
        let latin1 = format!(
            "{}.{}.s",
            b64("{}"),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xff, 0xfe])
        );
        assert!(decode(&latin1).is_err());
    }

    #[test]
    fn refuses_huge_input_quickly() {
        let huge = token(&format!(r#"{{"pad":"{}"}}"#, "x".repeat(MAX_TOKEN_LEN)));
        assert_eq!(decode(&huge).unwrap_err().message, "Token is too long");
        assert!(decode(&".".repeat(1_000_000)).is_err());
    }

    #[test]
    fn fractional_dates_round_down() {
        assert_eq!(decode(&token(r#"{"exp":1000.9}"#)).unwrap().exp, Some(1000));
    }

    #[test]
    fn expiry_edges_with_leeway() {
        let c = decode(&token(r#"{"exp":1000,"nbf":500}"#)).unwrap();
        assert!(!is_expired_at(&c, 999, 0));
        assert!(is_expired_at(&c, 1000, 0), "exp is exclusive");
        assert!(!is_expired_at(&c, 1029, 30));
        assert!(is_expired_at(&c, 1030, 30));
        assert!(is_premature_at(&c, 499, 0));
        assert!(!is_premature_at(&c, 500, 0));
        assert!(!is_premature_at(&c, 470, 30));
        assert!(is_premature_at(&c, 469, 30));
        let forever = decode(&token(r#"{"sub":"x"}"#)).unwrap();
        assert!(!is_expired_at(&forever, i64::MAX, 30));
    }

    #[test]
    fn recognises_jwt_shape() {
        assert!(looks_like_jwt(&token("{}")));
        assert!(!looks_like_jwt("opaque-token"));
    }
}
