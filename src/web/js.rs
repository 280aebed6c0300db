//! Small helpers for reading and building plain JS values.

use crate::prelude::*;

use js_sys::{Function, Reflect, JSON};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `reportError` (HTML): surfaces a listener's exception without stopping the loop.
    #[wasm_bindgen(js_name = reportError, catch)]
    fn report_error(err: &JsValue) -> Result<(), JsValue>;
}

pub fn get(obj: &JsValue, key: &str) -> JsValue {
    // Functions are objects too (AbortSignal.timeout lives on a constructor).
    if !obj.is_object() && !obj.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

pub fn get_string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

pub fn get_f64(obj: &JsValue, key: &str) -> Option<f64> {
    get(obj, key).as_f64()
}

pub fn set(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// JSON text produced by the core -> a JS value (null when unparsable, which the
/// core's own writer never produces).
pub fn parse_json(text: Option<&str>) -> JsValue {
    text.and_then(|t| JSON::parse(t).ok())
        .unwrap_or(JsValue::NULL)
}

pub fn now() -> f64 {
    js_sys::Date::now()
}

/// Call a listener; an exception is reported, not propagated.
pub fn call_listener(f: &Function, a: &JsValue, b: &JsValue) {
    if let Err(err) = f.call2(&JsValue::NULL, a, b) {
        let _ = report_error(&err);
    }
}
