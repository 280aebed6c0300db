//! JWT decoding: any text, never a panic; what decodes has consistent claims.
#![no_main]

use auth_wasm::core::jwt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(claims) = jwt::decode(text) {
        // The claims text is itself valid JSON, and the time checks are total.
        assert!(auth_wasm::core::json::parse(&claims.json).is_some());
        let _ = jwt::is_expired_at(&claims, i64::MAX, i64::MAX);
        let _ = jwt::is_premature_at(&claims, i64::MIN, i64::MAX);
    }
});
