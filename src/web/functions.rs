//! The token helpers of the JS API (js/jwt.js wraps them): `decodeJwt` and `isExpired`.
//!
//! The fast path shares one buffer with JS: js/jwt.js writes a token's UTF-8 into it
//! (`TextEncoder.encodeInto`), the engine judges the token there (`core::jwt::
//! decode_in_place`) and leaves the payload's own JSON text at its start, which JS hands
//! to `JSON.parse`. No allocation or char-by-char copy to cross, no re-serialisation.
//! `decodeJwtText` answers the same question the slow way, for the error's message.

use crate::prelude::*;

use core::cell::UnsafeCell;
use wasm_bindgen::prelude::*;

use super::engine::failure;
use crate::core::jwt::{self, MAX_TOKEN_LEN};

/// Zero-initialised, so it costs the wasm file nothing (no data segment).
struct Scratch(UnsafeCell<[u8; MAX_TOKEN_LEN]>);
// SAFETY: the wasm runs on one thread; see `with_scratch`.
unsafe impl Sync for Scratch {}
static SCRATCH: Scratch = Scratch(UnsafeCell::new([0; MAX_TOKEN_LEN]));

/// `f` over the first `len` bytes of the scratch buffer (None when `len` exceeds it).
fn with_scratch<T>(len: usize, f: impl FnOnce(&mut [u8]) -> T) -> Option<T> {
    // SAFETY: one thread; JS reads and writes the buffer only between calls into the
    // wasm, and this is the only Rust code that refers to it, never re-entered.
    let buf = unsafe { &mut *SCRATCH.0.get() };
    buf.get_mut(..len).map(f)
}

/// Where the scratch buffer starts in the wasm's memory (`engineMemory()`).
#[wasm_bindgen(js_name = jwtScratch)]
pub fn jwt_scratch() -> usize {
    SCRATCH.0.get() as usize
}

/// The scratch buffer's length: a longer token goes the slow way (and is refused).
#[wasm_bindgen(js_name = jwtScratchLength)]
pub fn jwt_scratch_length() -> usize {
    MAX_TOKEN_LEN
}

/// The wasm's memory, for js/jwt.js's view of the scratch buffer.
#[wasm_bindgen(js_name = engineMemory)]
pub fn engine_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// The token of `len` bytes in the scratch buffer: the byte length of its payload's
/// JSON text, left at the buffer's start, or -1 when it is not a JWT.
#[wasm_bindgen(js_name = decodeJwtScratch)]
pub fn decode_jwt_scratch(len: usize) -> i32 {
    with_scratch(len, |buf| {
        jwt::decode_in_place(buf).map_or(-1, |(_, n)| n as i32)
    })
    .unwrap_or(-1)
}

/// Whether the token of `len` bytes in the scratch buffer is expired now (device
/// clock), allowing `leeway` seconds (default 0). A malformed token counts as expired.
#[wasm_bindgen(js_name = isExpiredScratch)]
pub fn is_expired_scratch(len: usize, leeway: Option<f64>) -> bool {
    let leeway = leeway.filter(|l| l.is_finite() && *l >= 0.0).unwrap_or(0.0) as i64;
    let now = libm::floor(js_sys::Date::now() / 1000.0) as i64;
    with_scratch(len, |buf| jwt::is_expired_in_place(buf, now, leeway)).unwrap_or(true)
}

/// The claims of a JWT as JSON text, without verifying its signature (the backend
/// does that); `!` and an `invalid_token` error as JSON when it is not a JWT.
#[wasm_bindgen(js_name = decodeJwtText)]
pub fn decode_jwt_text(token: &str) -> String {
    jwt::decode(token).map_or_else(|e| failure(&e), |claims| claims.json)
}

/// What js/jwt.js does for a decode, from Rust (the wasm tests): the token copied into
/// the scratch buffer, then the payload's text read back. None when it is not a JWT.
pub fn decode_jwt(token: &str) -> Option<String> {
    let bytes = token.as_bytes();
    with_scratch(bytes.len(), |buf| buf.copy_from_slice(bytes))?;
    let len = usize::try_from(decode_jwt_scratch(bytes.len())).ok()?;
    with_scratch(len, |buf| String::from_utf8(buf.to_vec()).ok())?
}

/// js/jwt.js's `isExpired`, from Rust (the wasm tests): through the scratch buffer.
pub fn is_expired(token: &str, leeway: Option<f64>) -> bool {
    let bytes = token.as_bytes();
    with_scratch(bytes.len(), |buf| buf.copy_from_slice(bytes)).is_none()
        || is_expired_scratch(bytes.len(), leeway)
}
