//! The token helpers of the JS API (js/jwt.js wraps them): `decodeJwt` and `isExpired`.

use crate::prelude::*;

use wasm_bindgen::prelude::*;

use super::engine::failure;
use crate::core::jwt;

/// The claims of a JWT as JSON text, without verifying its signature (the backend
/// does that); `!` and an `invalid_token` error as JSON when it is not a JWT.
#[wasm_bindgen(js_name = decodeJwtText)]
pub fn decode_jwt_text(token: &str) -> String {
    jwt::decode(token).map_or_else(|e| failure(&e), |claims| claims.json)
}

/// Whether `token` is expired now (device clock), allowing `leeway` seconds
/// (default 0). A malformed token counts as expired: it can never be used.
#[wasm_bindgen(js_name = isExpired)]
pub fn is_expired(token: &str, leeway: Option<f64>) -> bool {
    let leeway = leeway.filter(|l| l.is_finite() && *l >= 0.0).unwrap_or(0.0) as i64;
    match jwt::decode(token) {
        Ok(claims) => jwt::is_expired_at(
            &claims,
            libm::floor(js_sys::Date::now() / 1000.0) as i64,
            leeway,
        ),
        Err(_) => true,
    }
}
