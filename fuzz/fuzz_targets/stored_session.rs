//! The stored-session parser: garbage is discarded, never a panic; what is read
//! back writes out to text that reads back the same. What start-up keeps
//! (`decode_at_start`) is what `decode` reads, minus opaque tokens without expiry.
#![no_main]

use auth_wasm::core::persist;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let read = persist::decode(text, 1.7e12);
    if let Ok(session) = &read {
        let again = persist::decode(&persist::encode(session), 1.7e12);
        assert_eq!(again.as_ref(), Ok(session));
    }
    match persist::decode_at_start(text, 1.7e12) {
        Ok(kept) => assert_eq!(read, Ok(kept)),
        // Start-up tests the expiry rule before the rest of the record (persist's
        // `decode_record`): a record `decode` refuses anyway may be discarded for it too.
        // What it must never discard is a session `decode` reads with claims or an expiry.
        Err(persist::Discard::NoExpiry) => match &read {
            Ok(s) => assert!(s.claims.is_none() && s.expires_at.is_none()),
            Err(_) => {}
        },
        Err(why) => assert_eq!(read, Err(why)),
    }
});
