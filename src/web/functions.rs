//! The token helpers of the JS API (js/jwt.js wraps them): `decodeJwt` and `isExpired`.
//!
//! A token crosses through one buffer in the wasm's memory: js/jwt.js writes its UTF-8
//! there (`TextEncoder.encodeInto`), the engine judges it in place (`core::jwt::
//! decode_in_place`) and leaves the payload's own JSON text (or the error) at the
//! buffer's start for `JSON.parse`. No allocation or char-by-char copy to cross, and no
//! re-serialisation of the claims.

use crate::prelude::*;

use super::Shared;
use crate::core::engine::error_json;
use crate::core::jwt::{self, MAX_TOKEN_LEN};

/// Zero-initialised, so it costs the wasm file nothing (no data segment).
static SCRATCH: Shared<[u8; MAX_TOKEN_LEN]> = Shared::new([0; MAX_TOKEN_LEN]);

fn scratch() -> &'static mut [u8; MAX_TOKEN_LEN] {
    SCRATCH.get()
}

/// Where the scratch buffer starts in the wasm's memory (`engineMemory()`, which
/// scripts/lib/finish-package.mjs adds to the glue: the memory export read in JS, not
/// a wasm function returning it, whose externref shim cost the wasm ~700 B). Its length
/// is `MAX_TOKEN_LEN` (a longer token is refused). Both are answered by the op SCRATCH
/// of `engineCall` (src/web/engine.rs), asked once: exports of their own cost 17 B gzip more.
///
/// The crate's one wasm-bindgen export (`jwtScratch`, which JS does not call): its CLI,
/// which writes the glue, fails on a wasm with none ("failed to find intrinsics"), and
/// `engineCall` is a plain export (src/web/engine.rs). With no arguments, its wrapper
/// has nothing to store.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = jwtScratch)]
pub fn jwt_scratch() -> usize {
    SCRATCH.address()
}

/// Decodes the token of `len` bytes in the scratch buffer (a `len` beyond the buffer:
/// a token too long for it). Leaves at the buffer's start either the payload's JSON text,
/// answering its length, or the `invalid_token` AuthError as JSON, answering -1 - length.
/// The op DECODE of `engineCall` (src/web/engine.rs), not an export of its own.
pub fn decode_jwt_scratch(len: usize) -> i32 {
    let buf = scratch();
    let decoded = match buf.get_mut(..len) {
        Some(token) => jwt::decode_in_place(token).map(|(_, text)| text.len()),
        None => Err(jwt::too_long()),
    };
    match decoded {
        Ok(n) => n as i32,
        Err(e) => {
            let text = error_json(&e);
            let json = text.as_bytes();
            for (to, from) in buf.iter_mut().zip(json) {
                *to = *from;
            }
            -1 - json.len().min(MAX_TOKEN_LEN) as i32
        }
    }
}

/// Whether the token of `len` bytes in the scratch buffer is expired at `now_ms` (the
/// device's clock, from the caller: no import for it), allowing `leeway` seconds (NaN,
/// as JS passes `undefined`, or anything not finite and >= 0: none). A malformed token
/// counts as expired.
/// The op EXPIRED of `engineCall` (src/web/engine.rs), not an export of its own.
pub fn is_expired_scratch(len: usize, leeway: f64, now_ms: f64) -> bool {
    // Finite and not below zero by one comparison of the bits: after `+ 0.0` (-0
    // becomes +0) those are exactly the numbers below +infinity's (a sign bit or NaN's
    // exponent is above it); `is_finite() && >= 0.0` was lowered to a float
    // classification by bit masks (core::protocol's `expires_in` reads the same way).
    let leeway = if (leeway + 0.0).to_bits() < f64::INFINITY.to_bits() {
        leeway as i64
    } else {
        0
    };
    let now = crate::core::float::floor(now_ms / 1000.0) as i64;
    scratch()
        .get_mut(..len)
        .is_none_or(|token| jwt::is_expired_in_place(token, now, leeway))
}

/// What js/jwt.js does for `decodeJwt`, from Rust (the wasm tests): the token copied
/// into the scratch buffer, the payload's text (or the error's JSON) read back.
pub fn decode_jwt(token: &str) -> Result<String, String> {
    let bytes = token.as_bytes();
    let len = match scratch().get_mut(..bytes.len()) {
        Some(buf) => {
            buf.copy_from_slice(bytes);
            bytes.len()
        }
        None => MAX_TOKEN_LEN + 1,
    };
    let answer = decode_jwt_scratch(len);
    let text = |n: i32| {
        String::from_utf8_lossy(scratch().get(..n as usize).unwrap_or_default()).into_owned()
    };
    if answer >= 0 {
        Ok(text(answer))
    } else {
        Err(text(-1 - answer))
    }
}

/// js/jwt.js's `isExpired`, from Rust (the wasm tests): through the scratch buffer, at
/// `now_ms` (the caller's `Date.now()`).
pub fn is_expired(token: &str, leeway: Option<f64>, now_ms: f64) -> bool {
    let bytes = token.as_bytes();
    match scratch().get_mut(..bytes.len()) {
        Some(buf) => {
            buf.copy_from_slice(bytes);
            is_expired_scratch(bytes.len(), leeway.unwrap_or(f64::NAN), now_ms)
        }
        None => true,
    }
}
