//! JWT decoding: any text, never a panic; what decodes has consistent claims; decodeJwt's
//! fast path (in place, skimming the payload) accepts exactly what `decode` accepts.
#![no_main]

use auth_wasm::core::jwt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let mut buf = text.as_bytes().to_vec();
    let fast = jwt::decode_in_place(&mut buf, false);
    assert_eq!(fast.is_ok(), jwt::decode(text).is_ok(), "{text:?}");
    if let Ok((_, len)) = fast {
        // What JSON.parse is handed is the payload's own text, and valid JSON.
        let payload = core::str::from_utf8(&buf[..len]).unwrap();
        assert!(auth_wasm::core::json::parse(payload).is_some_and(|p| p.is_object()));
    }
    if let Ok(claims) = jwt::decode(text) {
        // The claims text is itself valid JSON, and the time checks are total.
        assert!(auth_wasm::core::json::parse(&claims.json).is_some());
        let _ = jwt::is_expired_at(&claims, i64::MAX, i64::MAX);
        let _ = jwt::is_premature_at(&claims, i64::MIN, i64::MAX);
    }
});
