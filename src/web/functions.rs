//! The token helpers of the JS API (js/jwt.js wraps them): `decodeJwt` and `isExpired`.
//!
//! A token crosses through one buffer in the wasm's memory: js/jwt.js writes its UTF-8
//! there (`TextEncoder.encodeInto`), the engine judges it in place (`core::jwt::
//! decode_in_place`) and leaves the payload's own JSON text (or the error) at the
//! buffer's start for `JSON.parse`. No allocation or char-by-char copy to cross, and no
//! re-serialisation of the claims.

use crate::prelude::*;

use core::cell::UnsafeCell;
use wasm_bindgen::prelude::*;

use super::engine::failure;
use crate::core::jwt::{self, MAX_TOKEN_LEN};

/// Zero-initialised, so it costs the wasm file nothing (no data segment).
struct Scratch(UnsafeCell<[u8; MAX_TOKEN_LEN]>);
// SAFETY: the wasm runs on one thread; see `scratch`.
unsafe impl Sync for Scratch {}
static SCRATCH: Scratch = Scratch(UnsafeCell::new([0; MAX_TOKEN_LEN]));

fn scratch() -> &'static mut [u8; MAX_TOKEN_LEN] {
    // SAFETY: one thread; JS reads and writes the buffer only between calls into the
    // wasm, and each export below takes it once and lets it go before returning.
    unsafe { &mut *SCRATCH.0.get() }
}

/// Where the scratch buffer starts in the wasm's memory (`engineMemory()`).
#[wasm_bindgen(js_name = jwtScratch)]
pub fn jwt_scratch() -> usize {
    SCRATCH.0.get() as usize
}

/// The scratch buffer's length (`MAX_TOKEN_LEN`: a longer token is refused).
#[wasm_bindgen(js_name = jwtScratchLength)]
pub fn jwt_scratch_length() -> usize {
    MAX_TOKEN_LEN
}

/// The wasm's memory, for js/jwt.js's view of the scratch buffer.
#[wasm_bindgen(js_name = engineMemory)]
pub fn engine_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Decodes the token of `len` bytes in the scratch buffer (a `len` beyond the buffer:
/// a token too long for it). Leaves at the buffer's start either the payload's JSON text,
/// answering its length, or the `invalid_token` AuthError as JSON, answering -1 - length.
#[wasm_bindgen(js_name = decodeJwtScratch)]
pub fn decode_jwt_scratch(len: usize) -> i32 {
    let buf = scratch();
    let decoded = match buf.get_mut(..len) {
        Some(token) => jwt::decode_in_place(token, false).map(|(_, n)| n),
        None => Err(jwt::too_long()),
    };
    match decoded {
        Ok(n) => n as i32,
        Err(e) => {
            let text = failure(&e);
            // `failure` is "!" + the error as JSON: the JSON goes back.
            let json = text.as_bytes().get(1..).unwrap_or_default();
            for (to, from) in buf.iter_mut().zip(json) {
                *to = *from;
            }
            -1 - json.len().min(MAX_TOKEN_LEN) as i32
        }
    }
}

#[wasm_bindgen]
extern "C" {
    /// `Date.now()`, bound here rather than through js-sys: that crate's `#[no_mangle]`
    /// JSPI task export (futures/jspi.rs) would be linked with it, and its panic location
    /// data stays in the wasm after wasm-bindgen deletes the export.
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;
}

/// Whether the token of `len` bytes in the scratch buffer is expired now (device
/// clock), allowing `leeway` seconds (default 0). A malformed token counts as expired.
#[wasm_bindgen(js_name = isExpiredScratch)]
pub fn is_expired_scratch(len: usize, leeway: Option<f64>) -> bool {
    let leeway = leeway.filter(|l| l.is_finite() && *l >= 0.0).unwrap_or(0.0) as i64;
    let now = libm::floor(date_now() / 1000.0) as i64;
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

/// js/jwt.js's `isExpired`, from Rust (the wasm tests): through the scratch buffer.
pub fn is_expired(token: &str, leeway: Option<f64>) -> bool {
    let bytes = token.as_bytes();
    match scratch().get_mut(..bytes.len()) {
        Some(buf) => {
            buf.copy_from_slice(bytes);
            is_expired_scratch(bytes.len(), leeway)
        }
        None => true,
    }
}
