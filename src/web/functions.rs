//! Free functions of the JS API: `decodeJwt` and `isExpired`.

use wasm_bindgen::prelude::*;

use super::{error, js};
use crate::core::jwt;

/// The claims of a JWT, without verifying its signature (the backend does that).
/// Throws an AuthError `invalid_token` when it is not a well-formed JWT.
#[wasm_bindgen(js_name = decodeJwt, unchecked_return_type = "JwtClaims")]
pub fn decode_jwt(token: &str) -> Result<JsValue, JsValue> {
    let claims = jwt::decode(token).map_err(|e| error::to_js(&e))?;
    Ok(js::parse_json(Some(&claims.json)))
}

/// Whether `token` is expired now (device clock), allowing `leeway` seconds
/// (default 0). A malformed token counts as expired: it can never be used.
#[wasm_bindgen(js_name = isExpired)]
pub fn is_expired(token: &str, leeway: Option<f64>) -> bool {
    let leeway = leeway.filter(|l| l.is_finite() && *l >= 0.0).unwrap_or(0.0) as i64;
    match jwt::decode(token) {
        Ok(claims) => jwt::is_expired_at(&claims, libm::floor(js::now() / 1000.0) as i64, leeway),
        Err(_) => true,
    }
}
