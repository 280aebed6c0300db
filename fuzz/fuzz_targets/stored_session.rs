//! The stored-session parser: garbage is discarded, never a panic; what is read
//! back writes out to text that reads back the same.
#![no_main]

use auth_wasm::core::persist;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(session) = persist::decode(text, 1.7e12) {
        let again = persist::decode(&persist::encode(&session), 1.7e12);
        assert_eq!(again.as_ref(), Ok(&session));
    }
});
