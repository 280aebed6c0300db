//! The JSON reader: any text, never a panic. What it reads writes back to text that
//! reads the same, for the numbers the crate stores (integers within 2^53; other
//! numbers are read to within an ulp or so, which the writer does not promise to keep).
#![no_main]

use auth_wasm::core::json::{self, Json};
use libfuzzer_sys::fuzz_target;

fn exact_numbers(value: &Json) -> bool {
    match value {
        Json::Num(n) => n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0,
        Json::Arr(items) => items.iter().all(exact_numbers),
        Json::Obj(members) => members.iter().all(|(_, v)| exact_numbers(v)),
        _ => true,
    }
}

fuzz_target!(|text: &str| {
    if let Some(value) = json::parse(text) {
        let again = json::parse(&value.to_text());
        assert!(again.is_some(), "{text:?}");
        if exact_numbers(&value) {
            assert_eq!(again.as_ref(), Some(&value), "{text:?}");
        }
    }
});
