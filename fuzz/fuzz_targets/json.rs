//! The JSON reader: any text, never a panic. What it reads writes back to text that
//! reads the same, every number included (its source text is kept), and that text is
//! stable: writing what was read back gives it again.
#![no_main]

use auth_wasm::core::json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(value) = json::parse(text) {
        let written = value.to_text();
        let again = json::parse(&written);
        assert_eq!(again.as_ref(), Some(&value), "{text:?}");
        assert_eq!(again.map(|v| v.to_text()), Some(written), "{text:?}");
    }
});
