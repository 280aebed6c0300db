//! JWT decoding: any text, never a panic; what decodes has consistent claims; decodeJwt's
//! fast path (in place, skimming the payload) accepts exactly what `decode` accepts; the
//! skimming reader judges any text as the full reader does.
#![no_main]

use auth_wasm::core::{json, jwt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let mut buf = text.as_bytes().to_vec();
    let fast = jwt::decode_in_place(&mut buf);
    assert_eq!(fast.is_ok(), jwt::decode(text).is_ok(), "{text:?}");
    // The skimming reader that judges payloads agrees with the full one on any text:
    // the same texts are objects, and the time claims are seen as they are read.
    let keys = ["exp", "nbf", "iat"];
    let (full, skimmed) = (json::parse(text), json::skim(text, &keys));
    assert_eq!(full.as_ref().is_some_and(|p| p.is_object()), skimmed.is_some(), "{text:?}");
    if let (Some(full), Some(skimmed)) = (full, skimmed) {
        for (key, seen) in keys.iter().zip(skimmed) {
            assert_eq!(json::Seen::of(full.get(key)), seen, "{text:?}");
        }
    }
    if let Ok((_, payload)) = fast {
        // What JSON.parse is handed is the payload's own text, and valid JSON.
        assert!(json::parse(payload).is_some_and(|p| p.is_object()));
    }
    if let Ok(claims) = jwt::decode(text) {
        // The claims text is itself valid JSON, and the time checks are total.
        assert!(json::parse(&claims.json).is_some());
        let _ = jwt::is_expired_at(&claims, i64::MAX, i64::MAX);
        let _ = jwt::is_premature_at(&claims, i64::MIN, i64::MAX);
    }
});
